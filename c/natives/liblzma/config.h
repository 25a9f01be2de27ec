/* liblzma's build configuration for the eryx guest (wasm32-wasi, single
 * threaded: no MYTHREAD_*, so xz's threaded encoder is not built). Used by
 * build.rs when compiling xz 5.2's liblzma (HAVE_CONFIG_H). */
#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_STRING_H 1
#define HAVE_LIMITS_H 1
#define SIZEOF_SIZE_T 4

/* Every encoder and decoder CPython's lzma module can name. */
#define HAVE_ENCODER_LZMA1 1
#define HAVE_DECODER_LZMA1 1
#define HAVE_ENCODER_LZMA2 1
#define HAVE_DECODER_LZMA2 1
#define HAVE_ENCODER_DELTA 1
#define HAVE_DECODER_DELTA 1
#define HAVE_ENCODER_X86 1
#define HAVE_DECODER_X86 1
#define HAVE_ENCODER_POWERPC 1
#define HAVE_DECODER_POWERPC 1
#define HAVE_ENCODER_IA64 1
#define HAVE_DECODER_IA64 1
#define HAVE_ENCODER_ARM 1
#define HAVE_DECODER_ARM 1
#define HAVE_ENCODER_ARMTHUMB 1
#define HAVE_DECODER_ARMTHUMB 1
#define HAVE_ENCODER_SPARC 1
#define HAVE_DECODER_SPARC 1
#define HAVE_ENCODERS 1
#define HAVE_DECODERS 1

#define HAVE_CHECK_CRC32 1
#define HAVE_CHECK_CRC64 1
#define HAVE_CHECK_SHA256 1

#define HAVE_MF_HC3 1
#define HAVE_MF_HC4 1
#define HAVE_MF_BT2 1
#define HAVE_MF_BT3 1
#define HAVE_MF_BT4 1

#define ASSUME_RAM 128
#define _POSIX_C_SOURCE 199506L
