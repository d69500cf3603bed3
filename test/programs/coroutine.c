/*
 * Allocations on a makecontext stack: coroutine() runs on a static stack of
 * its own and leaks 40 B from leaf() 10 times, switching back to main after
 * each.  makecontext pushes the return address to glibc's __start_context
 * by hand and leaves rbp as it was in main's context: an unwinder that
 * guesses from the frame pointer where no FDE covers the address walks on
 * into main's stack, which is not this stack's caller.  Leaks: 400 B in 10
 * blocks from leaf <- coroutine <- (libc's start of the context), and
 * nothing of main below them.
 */
#include <stdlib.h>
#include <ucontext.h>

static ucontext_t main_ctx, co_ctx;
static void *volatile sink;

static __attribute__((noinline)) void leaf(void)
{
	sink = malloc(40);
}

static void coroutine(void)
{
	for (int i = 0; i < 10; i++) {
		leaf();
		swapcontext(&co_ctx, &main_ctx);
	}
}

int main(void)
{
	static char stack[65536];

	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = stack;
	co_ctx.uc_stack.ss_size = sizeof(stack);
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, coroutine, 0);
	for (int i = 0; i < 10; i++)
		swapcontext(&main_ctx, &co_ctx);
	return 0;
}
