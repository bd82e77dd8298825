// C++ without exceptions: static constructors and destructors, iostream,
// virtual calls, templates, lambdas and the standard containers and
// algorithms, in libstdc++ linked statically and dynamically.

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

// Runs before main and after it returns, through .init_array / atexit.
struct Announcer {
    const char *name;
    explicit Announcer(const char *n) : name(n) { std::printf("static constructor %s\n", name); }
    ~Announcer() { std::printf("static destructor %s\n", name); }
};
static Announcer first("first");
static Announcer second("second");

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual std::string name() const = 0;
};

struct Rectangle : Shape {
    double w, h;
    Rectangle(double w_, double h_) : w(w_), h(h_) {}
    double area() const override { return w * h; }
    std::string name() const override { return "rectangle"; }
};

struct Circle : Shape {
    double r;
    explicit Circle(double r_) : r(r_) {}
    double area() const override { return 3.141592653589793 * r * r; }
    std::string name() const override { return "circle"; }
};

template <typename T> T sum_of_squares(const std::vector<T> &values) {
    return std::accumulate(values.begin(), values.end(), T{}, [](T acc, T v) { return acc + v * v; });
}

int main() {
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 1; i <= 4; i++) {
        shapes.push_back(std::make_unique<Rectangle>(i, i + 0.5));
        shapes.push_back(std::make_unique<Circle>(i * 0.75));
    }
    std::sort(shapes.begin(), shapes.end(),
              [](const auto &a, const auto &b) { return a->area() < b->area(); });
    for (const auto &shape : shapes)
        std::cout << std::setw(10) << shape->name() << " " << std::fixed << std::setprecision(4)
                  << shape->area() << "\n";

    std::map<std::string, int> counts;
    std::unordered_map<int, std::string> names;
    std::istringstream text("the quick brown fox jumps over the lazy dog the end");
    std::string word;
    while (text >> word)
        counts[word]++;
    for (const auto &[key, count] : counts)
        std::cout << key << "=" << count << " ";
    std::cout << "\n";
    for (int i = 0; i < 1000; i++)
        names[i * 7919 % 1009] = std::to_string(i);
    std::cout << "unordered: " << names.size() << " " << names[5] << " " << names[1008] << "\n";

    std::vector<long> numbers(100);
    std::iota(numbers.begin(), numbers.end(), -50);
    std::cout << "sum of squares " << sum_of_squares(numbers) << ", of halves "
              << sum_of_squares(std::vector<double>{0.5, 1.5, 2.5}) << "\n";
    auto odd = std::count_if(numbers.begin(), numbers.end(), [](long n) { return n % 2 != 0; });
    auto [low, high] = std::minmax_element(numbers.begin(), numbers.end());
    std::cout << "odd " << odd << " min " << *low << " max " << *high << "\n";

    std::ostringstream formatted;
    formatted << std::hex << 255 << " " << std::oct << 8 << " " << std::dec << std::scientific
              << 12345.678 << " " << std::boolalpha << true;
    std::cout << formatted.str() << std::endl;

    const std::string text_out = formatted.str();
    std::string reversed(text_out.rbegin(), text_out.rend());
    std::cout << "reversed: " << reversed << "\n";
    return 0;
}
