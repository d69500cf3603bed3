/*
 * A small C program with a leak, for leakhunt's demo of native recording:
 * it parses "requests" into records, keeps a cache that is never pruned for
 * one kind of request, and frees everything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
	char *key;
	char *body;
	struct record *next;
};

static struct record *cache; /* the leak: grows forever */

static struct record *parse(int i)
{
	struct record *r = malloc(sizeof(*r));
	char buf[64];

	snprintf(buf, sizeof(buf), "key-%d", i);
	r->key = strdup(buf);
	r->body = calloc(1, 256 + (size_t)(i % 7) * 64);
	r->next = NULL;
	return r;
}

static void release(struct record *r)
{
	free(r->key);
	free(r->body);
	free(r);
}

static void handle(int i)
{
	struct record *r = parse(i);

	if (i % 10 == 0) { /* "remember" every tenth request, and never forget it */
		r->next = cache;
		cache = r;
		return;
	}
	release(r);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;

	for (int i = 0; i < n; i++)
		handle(i);
	printf("handled %d requests\n", n);
	return 0;
}
