// C++ exceptions: the unwinder (libgcc's, driven by .eh_frame) walks the
// translated program's stack, runs destructors and lands in catch blocks.
// Throws across functions, rethrow, nested try, catch by base class, the
// std::exception hierarchy, throws through a function pointer and through
// std::function, and the order destructors run in while unwinding.

#include <cstdio>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

static std::string trail;

// Records its construction and destruction in `trail`.
struct Guard {
    char tag;
    explicit Guard(char t) : tag(t) { trail += '+'; trail += tag; }
    ~Guard() { trail += '-'; trail += tag; }
};

struct Base {
    int code;
    explicit Base(int c) : code(c) {}
    virtual ~Base() = default;
    virtual const char *what() const { return "Base"; }
};

struct Derived : Base {
    std::string detail;
    Derived(int c, std::string d) : Base(c), detail(std::move(d)) {}
    const char *what() const override { return "Derived"; }
};

struct AppError : std::runtime_error {
    int level;
    AppError(const std::string &message, int l) : std::runtime_error(message), level(l) {}
};

// Deep enough that the unwinder crosses several frames, each with a guard.
__attribute__((noinline)) int descend(int depth, int throw_at) {
    Guard guard(static_cast<char>('a' + depth));
    if (depth == throw_at)
        throw Derived(depth * 10, "depth " + std::to_string(depth));
    return descend(depth + 1, throw_at) + 1;
}

static void across_functions() {
    trail.clear();
    try {
        descend(0, 4);
        std::printf("across: not thrown\n");
    } catch (const Derived &e) {
        std::printf("across: caught %s code=%d detail=%s\n", e.what(), e.code, e.detail.c_str());
    }
    std::printf("across: destructor order %s\n", trail.c_str());
}

static void base_class_catch() {
    for (int kind = 0; kind < 3; kind++) {
        try {
            switch (kind) {
            case 0: throw Base(1);
            case 1: throw Derived(2, "two");
            default: throw 3;
            }
        } catch (const Base &e) {
            // Caught by reference: the dynamic type survives.
            std::printf("base: kind %d caught as Base, dynamic %s code=%d\n", kind, e.what(), e.code);
        } catch (int value) {
            std::printf("base: kind %d caught as int %d\n", kind, value);
        }
    }
}

static void standard_hierarchy() {
    std::vector<std::function<void()>> throwers = {
        [] { throw std::out_of_range("index 7"); },
        [] { throw std::invalid_argument("not a number"); },
        [] { throw std::overflow_error("too big"); },
        [] { throw AppError("application", 3); },
        [] { std::vector<int> v(2); (void)v.at(5); },
        [] { (void)std::stoi("xyz"); },
        [] { std::string s("abc"); (void)s.substr(9); },
        [] { throw std::bad_alloc(); },
        [] { Base *b = new Base(0); (void)dynamic_cast<Derived &>(*b); },
    };
    int index = 0;
    for (auto &thrower : throwers) {
        try {
            thrower();
            std::printf("std %d: nothing thrown\n", index);
        } catch (const AppError &e) {
            std::printf("std %d: AppError level=%d what=%s\n", index, e.level, e.what());
        } catch (const std::logic_error &e) {
            const char *which = dynamic_cast<const std::out_of_range *>(&e) ? "out_of_range"
                : dynamic_cast<const std::invalid_argument *>(&e)           ? "invalid_argument"
                                                                           : "other logic_error";
            // what() of library-thrown errors is the library's text, which
            // is the same natively and translated: the same libstdc++ runs.
            std::printf("std %d: logic_error (%s) what=%s\n", index, which, e.what());
        } catch (const std::runtime_error &e) {
            std::printf("std %d: runtime_error what=%s\n", index, e.what());
        } catch (const std::exception &e) {
            std::printf("std %d: exception what=%s\n", index, e.what());
        }
        index++;
    }
}

static void rethrow_and_nested() {
    trail.clear();
    try {
        Guard outer('O');
        try {
            Guard inner('I');
            try {
                throw std::runtime_error("first");
            } catch (const std::runtime_error &e) {
                std::printf("nested: inner caught %s, rethrowing\n", e.what());
                throw;
            }
        } catch (const std::exception &e) {
            std::printf("nested: middle caught %s, throwing another\n", e.what());
            try {
                throw std::logic_error("second");
            } catch (const std::logic_error &inner_error) {
                std::printf("nested: caught %s inside a catch block\n", inner_error.what());
            }
            // The original exception is still the one being handled.
            throw;
        }
    } catch (const std::runtime_error &e) {
        std::printf("nested: outer caught %s\n", e.what());
    }
    std::printf("nested: destructor order %s\n", trail.c_str());

    // std::exception_ptr carries an exception out of its catch block.
    std::exception_ptr saved;
    try {
        throw AppError("saved", 9);
    } catch (...) {
        saved = std::current_exception();
    }
    try {
        std::rethrow_exception(saved);
    } catch (const AppError &e) {
        std::printf("exception_ptr: rethrown %s level=%d\n", e.what(), e.level);
    }
}

__attribute__((noinline)) static int divide(int a, int b) {
    if (b == 0)
        throw std::domain_error("division by zero");
    return a / b;
}

static void through_indirect_calls() {
    int (*volatile pointer)(int, int) = divide;
    std::function<int(int, int)> wrapped = [](int a, int b) {
        Guard guard('F');
        return divide(a, b) + 1;
    };
    trail.clear();
    for (int b : {4, 0}) {
        try {
            std::printf("pointer: 100/%d = %d\n", b, pointer(100, b));
        } catch (const std::domain_error &e) {
            std::printf("pointer: caught %s\n", e.what());
        }
        try {
            std::printf("function: 100/%d+1 = %d\n", b, wrapped(100, b));
        } catch (const std::domain_error &e) {
            std::printf("function: caught %s\n", e.what());
        }
    }
    std::printf("function: destructor order %s\n", trail.c_str());
}

// Destructors of members, arrays, temporaries and unique_ptr owners run in
// reverse order of construction while the stack unwinds.
struct Holder {
    Guard first{'1'};
    Guard second{'2'};
    std::unique_ptr<Guard> owned{new Guard('3')};
    Holder() {}
};

struct FailsInConstructor {
    Guard member{'m'};
    FailsInConstructor() { throw std::runtime_error("constructor failed"); }
};

static void unwinding_order() {
    trail.clear();
    try {
        Guard local('L');
        Holder holder;
        Guard array[2] = {Guard('x'), Guard('y')};
        throw std::runtime_error("unwind");
    } catch (const std::exception &e) {
        std::printf("order: caught %s, trail %s\n", e.what(), trail.c_str());
    }
    trail.clear();
    try {
        FailsInConstructor object;
        std::printf("order: constructed\n");
    } catch (const std::exception &e) {
        // The fully built member is destroyed; the object never existed.
        std::printf("order: caught %s, trail %s\n", e.what(), trail.c_str());
    }
}

static void many_throws() {
    // Enough throws that the unwinder's caches and the translated landing
    // pads are exercised repeatedly.
    long sum = 0;
    for (int i = 0; i < 2000; i++) {
        try {
            if (i % 3 == 0)
                throw i;
            if (i % 3 == 1)
                throw Derived(i, "");
            sum += i;
        } catch (int value) {
            sum += value * 2;
        } catch (const Base &e) {
            sum -= e.code;
        }
    }
    std::printf("many: sum %ld\n", sum);
}

int main() {
    across_functions();
    base_class_catch();
    standard_hierarchy();
    rethrow_and_nested();
    through_indirect_calls();
    unwinding_order();
    many_throws();
    std::printf("done\n");
    return 0;
}
