// Linked into C++ extension modules (mesonbuild.py, cbuild.py): members of
// libc++'s string that Debian's libc++ 16 headers expect the shared
// library to provide (an extern template) but componentize-py's libc++.so
// does not export; instantiated here from the headers, hidden, so each
// module has its own (matplotlib's _path needed basic_string::__grow_by).
#include <string>

#pragma GCC visibility push(hidden)
template void std::basic_string<char>::__grow_by(size_type, size_type, size_type, size_type, size_type,
                                                 size_type);
#pragma GCC visibility pop
