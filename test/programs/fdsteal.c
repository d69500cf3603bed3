#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
/* fdsteal INPUT OUTPUT: fds 3 (reading INPUT) and 4 (writing OUTPUT) are the program's own; it
 * allocates from code without unwind tables (nocfi.c), then reads all of
 * INPUT and reports how much it read and OUTPUT's size */
void *nocfi_alloc(int n);
int main(int c, char **v){
  free(malloc(10));
  syscall(SYS_close_range, 3, ~0U, 0);
  int a = open(v[1], O_RDONLY); int b = open(v[2], O_WRONLY|O_CREAT|O_TRUNC, 0644);
  for (int i = 0; i < 100; i++) free(nocfi_alloc(i + 1));
  char buf[4096]; long got = 0, n; while ((n = read(a, buf, sizeof buf)) > 0) got += n;
  (void)!write(b, "B\n", 2);
  struct stat sb; fstat(b, &sb);
  printf("fds %d %d read %ld out %ld\n", a, b, got, (long)sb.st_size);
  return 0;
}
