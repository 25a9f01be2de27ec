/* <dlfcn.h> for native packages built by scripts/build_packages: wasi-libc
 * here has none, but the sandbox component has a libdl (wit-component's
 * built-in one, which CPython itself uses to load extension modules), so
 * code that looks up symbols at run time (matplotlib's Tk glue) compiles and
 * links; what it looks for is simply not found. Values as musl's. */
#ifndef ERYX_DLFCN_H
#define ERYX_DLFCN_H
#ifdef __cplusplus
extern "C" {
#endif
#define RTLD_LAZY 1
#define RTLD_NOW 2
#define RTLD_NOLOAD 4
#define RTLD_NODELETE 4096
#define RTLD_GLOBAL 256
#define RTLD_LOCAL 0
#define RTLD_NEXT ((void *)-1)
#define RTLD_DEFAULT ((void *)0)
void *dlopen(const char *, int);
int dlclose(void *);
void *dlsym(void *__restrict, const char *__restrict);
char *dlerror(void);
#ifdef __cplusplus
}
#endif
#endif
