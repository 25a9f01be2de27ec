// What libc++abi's exception code needs besides its own exception files,
// for a single-threaded guest (cxx_eh.py builds the C++ runtime library):
// the per-thread exception globals (cxa_exception_storage.cpp would pull in
// libc++ 22's thread-support headers) and the allocation entry points of
// fallback_malloc.cpp (its emergency pool guards against malloc failing
// while throwing std::bad_alloc; here an exception's memory comes from
// malloc, and a failure is a clean abort).
#include <stdlib.h>
#include <string.h>

namespace __cxxabiv1 {
struct __cxa_eh_globals_storage {
    void *caught_exceptions;
    unsigned int uncaught_exceptions;
};

static __cxa_eh_globals_storage eh_globals;

extern "C" __attribute__((visibility("default"))) void *__cxa_get_globals() { return &eh_globals; }
extern "C" __attribute__((visibility("default"))) void *__cxa_get_globals_fast() { return &eh_globals; }

__attribute__((visibility("hidden"))) void *__aligned_malloc_with_fallback(size_t size) {
    // Exception objects are allocated 16-byte aligned (the ABI's
    // _Unwind_Exception alignment); aligned_alloc needs a multiple of it.
    void *p = aligned_alloc(16, (size + 15) & ~size_t(15));
    if (p == nullptr) abort();
    return p;
}

__attribute__((visibility("hidden"))) void __aligned_free_with_fallback(void *p) { free(p); }

__attribute__((visibility("hidden"))) void *__calloc_with_fallback(size_t count, size_t size) {
    void *p = calloc(count, size);
    if (p == nullptr) abort();
    return p;
}

__attribute__((visibility("hidden"))) void __free_with_fallback(void *p) { free(p); }
} // namespace __cxxabiv1

// std::exception_ptr and friends: libc++.so's own definitions call the
// exception-less libc++abi.so (which reports no current exception), so a
// module that copies, captures or rethrows an exception (pybind11's
// exception translation does) needs these next to the exception code above.
#include <exception>

extern "C" {
void __cxa_increment_exception_refcount(void *) noexcept;
void __cxa_decrement_exception_refcount(void *) noexcept;
void *__cxa_current_primary_exception() noexcept;
void __cxa_rethrow_primary_exception(void *);
unsigned int __cxa_uncaught_exceptions() noexcept;
}

namespace std {
exception_ptr::~exception_ptr() noexcept { __cxa_decrement_exception_refcount(__ptr_); }

exception_ptr::exception_ptr(const exception_ptr &other) noexcept : __ptr_(other.__ptr_) {
    __cxa_increment_exception_refcount(__ptr_);
}

exception_ptr &exception_ptr::operator=(const exception_ptr &other) noexcept {
    if (__ptr_ != other.__ptr_) {
        __cxa_increment_exception_refcount(other.__ptr_);
        __cxa_decrement_exception_refcount(__ptr_);
        __ptr_ = other.__ptr_;
    }
    return *this;
}

// The primary exception comes back with its reference count raised.
exception_ptr current_exception() noexcept {
    exception_ptr p;
    p.__ptr_ = __cxa_current_primary_exception();
    return p;
}

void rethrow_exception(exception_ptr p) {
    __cxa_rethrow_primary_exception(p.__ptr_);
    // Only reached for a null exception_ptr.
    terminate();
}

int uncaught_exceptions() noexcept { return static_cast<int>(__cxa_uncaught_exceptions()); }
} // namespace std
