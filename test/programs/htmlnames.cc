// Function names that HTML and JSON-in-<script> must escape, for the test of
// `leakhunt report --html` (test/cli/report.sh): a class template's method,
// Box<Map<int, char> >::put(Map<int, char>&), leaks 48 B; a function whose
// symbol is "</script><!--<b>&amp;\xff" (set with an asm label: no C or C++
// identifier holds these characters; \xff is not UTF-8) leaks 33 B.
#include <cstdlib>

template <typename K, typename V> struct Map {
	K k;
	V v;
};

template <typename T> struct Box {
	__attribute__((noinline)) static void *put(T &t)
	{
		void *p = malloc(sizeof(t) + 40);

		__asm__ volatile("" : : "r"(p) : "memory"); // no tail call
		return p;
	}
};

extern "C" void *odd(int n) __asm__("\"</script><!--<b>&amp;\xff\"");
extern "C" __attribute__((noinline)) void *odd(int n)
{
	void *p = malloc(n);

	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

int main()
{
	Map<int, char> m{ 1, 'a' };
	void *volatile a = Box<Map<int, char> >::put(m);
	void *volatile b = odd(33);

	(void)a;
	(void)b;
	return 0;
}
