// Leaks from a class template's method and a function in a namespace, for
// the test that C++ names come out demangled: 100 doubles from
// app::Pool<double>::grow(int), 50 strings from app::make_names(int).
#include <string>
#include <vector>

namespace app {

template <typename T> struct Pool {
	std::vector<T *> items;

	__attribute__((noinline)) void grow(int n)
	{
		for (int i = 0; i < n; i++)
			items.push_back(new T(i));
	}
};

__attribute__((noinline)) std::vector<std::string> *make_names(int n)
{
	auto *v = new std::vector<std::string>();

	for (int i = 0; i < n; i++)
		v->push_back(std::string(100, 'a' + i % 26));
	return v;
}

} // namespace app

int main()
{
	auto *p = new app::Pool<double>();

	p->grow(100);
	app::make_names(50);
	return p->items.size() == 100 ? 0 : 1;
}
