"""The ``ssl`` module of the sandbox: a shim over TLS done by the host.

The guest has no ``_ssl``; the host terminates TLS with rustls and verifies
certificates against its own roots (webpki plus what the embedder added).
This module gives ``http.client``, ``urllib``, ``urllib3`` 2.x and
``requests`` the API they use: :class:`SSLContext` (settings are accepted
and recorded; verification cannot be weakened or re-rooted from inside),
``wrap_socket`` (starts host TLS on an eryx socket), the constants and the
exception classes. Registered as ``sys.modules["ssl"]`` by the runtime.
"""

import base64
import enum
import os
from collections import namedtuple

import eryx
import _eryx_net

# urllib3 2.x checks the version text and number to trust the library.
OPENSSL_VERSION = "OpenSSL 3.0.0 compatible API; TLS by the eryx host (rustls)"
OPENSSL_VERSION_NUMBER = 0x30000100
OPENSSL_VERSION_INFO = (3, 0, 0, 1, 0)
_OPENSSL_API_VERSION = OPENSSL_VERSION_INFO

HAS_SNI = True
HAS_ALPN = True
HAS_NPN = False
HAS_ECDH = True
HAS_NEVER_CHECK_COMMON_NAME = True
HAS_SSLv2 = HAS_SSLv3 = HAS_TLSv1 = HAS_TLSv1_1 = False
HAS_TLSv1_2 = HAS_TLSv1_3 = True
HAS_PSK = HAS_PHA = False
CHANNEL_BINDING_TYPES = []


class _IntEnum(enum.IntEnum):
    pass


class VerifyMode(_IntEnum):
    CERT_NONE = 0
    CERT_OPTIONAL = 1
    CERT_REQUIRED = 2


CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED = VerifyMode


class VerifyFlags(enum.IntFlag):
    VERIFY_DEFAULT = 0
    VERIFY_CRL_CHECK_LEAF = 0x4
    VERIFY_CRL_CHECK_CHAIN = 0xC
    VERIFY_X509_STRICT = 0x20
    VERIFY_ALLOW_PROXY_CERTS = 0x40
    VERIFY_X509_TRUSTED_FIRST = 0x8000
    VERIFY_X509_PARTIAL_CHAIN = 0x80000


globals().update(VerifyFlags.__members__)


class Options(enum.IntFlag):
    OP_ALL = 0x80000050
    OP_NO_SSLv2 = 0
    OP_NO_SSLv3 = 0x2000000
    OP_NO_TLSv1 = 0x4000000
    OP_NO_TLSv1_1 = 0x10000000
    OP_NO_TLSv1_2 = 0x8000000
    OP_NO_TLSv1_3 = 0x20000000
    OP_NO_COMPRESSION = 0x20000
    OP_NO_TICKET = 0x4000
    OP_NO_RENEGOTIATION = 0x40000000
    OP_CIPHER_SERVER_PREFERENCE = 0x400000
    OP_SINGLE_DH_USE = 0x100000
    OP_SINGLE_ECDH_USE = 0x80000
    OP_ENABLE_MIDDLEBOX_COMPAT = 0x100000
    OP_IGNORE_UNEXPECTED_EOF = 0x80
    OP_LEGACY_SERVER_CONNECT = 0x4
    OP_ENABLE_KTLS = 0x8


globals().update(Options.__members__)


class _SSLMethod(_IntEnum):
    PROTOCOL_SSLv23 = 2
    PROTOCOL_TLS_CLIENT = 16
    PROTOCOL_TLS_SERVER = 17


PROTOCOL_TLS = PROTOCOL_SSLv23 = _SSLMethod.PROTOCOL_SSLv23
PROTOCOL_TLS_CLIENT = _SSLMethod.PROTOCOL_TLS_CLIENT
PROTOCOL_TLS_SERVER = _SSLMethod.PROTOCOL_TLS_SERVER


class TLSVersion(_IntEnum):
    MINIMUM_SUPPORTED = -2
    SSLv3 = 768
    TLSv1 = 769
    TLSv1_1 = 770
    TLSv1_2 = 771
    TLSv1_3 = 772
    MAXIMUM_SUPPORTED = -1


class SSLErrorNumber(_IntEnum):
    SSL_ERROR_SSL = 1
    SSL_ERROR_WANT_READ = 2
    SSL_ERROR_WANT_WRITE = 3
    SSL_ERROR_WANT_X509_LOOKUP = 4
    SSL_ERROR_SYSCALL = 5
    SSL_ERROR_ZERO_RETURN = 6
    SSL_ERROR_WANT_CONNECT = 7
    SSL_ERROR_EOF = 8
    SSL_ERROR_INVALID_ERROR_CODE = 10


globals().update(SSLErrorNumber.__members__)


class SSLError(OSError):
    """A TLS failure (reported by the host)."""

    library = "eryx"
    reason = None

    def __str__(self):
        return self.strerror if self.strerror else super().__str__()


class SSLZeroReturnError(SSLError):
    pass


class SSLWantReadError(SSLError):
    pass


class SSLWantWriteError(SSLError):
    pass


class SSLSyscallError(SSLError):
    pass


class SSLEOFError(SSLError):
    pass


class SSLCertVerificationError(SSLError, ValueError):
    verify_code = 1
    verify_message = ""


CertificateError = SSLCertVerificationError


def _error_for(message):
    """The exception for a host TLS failure."""
    low = message.lower()
    if "certificate" in low or "cert" in low:
        e = SSLCertVerificationError(SSL_ERROR_SSL, "[SSL: CERTIFICATE_VERIFY_FAILED] " + message)
        e.verify_message = message
        e.reason = "CERTIFICATE_VERIFY_FAILED"
        return e
    return SSLError(SSL_ERROR_SSL, message)


class Purpose(enum.Enum):
    SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
    CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"


DefaultVerifyPaths = namedtuple(
    "DefaultVerifyPaths", "cafile capath openssl_cafile_env openssl_cafile openssl_capath_env openssl_capath"
)


def get_default_verify_paths():
    return DefaultVerifyPaths(None, None, "SSL_CERT_FILE", "", "SSL_CERT_DIR", "")


def RAND_bytes(n):
    return os.urandom(n)


def RAND_status():
    return True


def RAND_add(string, entropy):
    pass


PEM_HEADER = "-----BEGIN CERTIFICATE-----"
PEM_FOOTER = "-----END CERTIFICATE-----"


def DER_cert_to_PEM_cert(der_cert_bytes):
    f = base64.standard_b64encode(der_cert_bytes).decode("ascii")
    lines = [f[i : i + 64] for i in range(0, len(f), 64)]
    return PEM_HEADER + "\n" + "\n".join(lines) + "\n" + PEM_FOOTER + "\n"


def PEM_cert_to_DER_cert(pem_cert_string):
    s = pem_cert_string.strip()
    if not s.startswith(PEM_HEADER) or not s.endswith(PEM_FOOTER):
        raise ValueError("Invalid PEM encoding")
    return base64.decodebytes(s[len(PEM_HEADER) : -len(PEM_FOOTER)].encode("ascii"))


def _unsupported(what):
    return NotImplementedError(what + " is not supported in the sandbox (TLS is done by the host)")


def _reporting(make, *names):
    """Class decorator: the methods ``names``, taking only ``self``, each
    return ``make()`` (a fresh value per call). For what the host's TLS does
    not expose, or has no use for, in the sandbox."""

    def decorate(cls):
        for name in names:
            setattr(cls, name, _reporter(cls, name, make))
        return cls

    return decorate


def _reporter(cls, name, make):
    def method(self):
        return make()

    method.__name__ = name
    method.__qualname__ = cls.__qualname__ + "." + name
    return method


class MemoryBIO:
    def __init__(self):
        raise _unsupported("ssl.MemoryBIO (TLS over a memory BIO)")


class SSLObject:
    def __init__(self, *args, **kwargs):
        raise _unsupported("ssl.SSLObject")


class SSLSession:
    pass


@_reporting(lambda: None, "set_default_verify_paths")
@_reporting(list, "get_ciphers")
@_reporting(dict, "session_stats")
class SSLContext:
    """TLS settings. Verification always happens on the host with the
    host's roots: ``verify_mode``/``check_hostname`` and loaded CA files are
    recorded but cannot weaken or re-root it."""

    sslsocket_class = None
    sslobject_class = SSLObject

    def __init__(self, protocol=None, *args, **kwargs):
        if protocol is None:
            protocol = PROTOCOL_TLS
        if protocol == PROTOCOL_TLS_SERVER:
            raise _unsupported("a server-side SSLContext")
        self.protocol = _SSLMethod(protocol)
        client = protocol == PROTOCOL_TLS_CLIENT
        self._verify_mode = CERT_REQUIRED if client else CERT_NONE
        self._check_hostname = client
        self.options = Options.OP_ALL | Options.OP_NO_SSLv3
        self.verify_flags = VerifyFlags.VERIFY_X509_TRUSTED_FIRST
        self.minimum_version = TLSVersion.MINIMUM_SUPPORTED
        self.maximum_version = TLSVersion.MAXIMUM_SUPPORTED
        self.hostname_checks_common_name = False
        self.post_handshake_auth = False
        self.keylog_filename = None
        self.sni_callback = None
        self.security_level = 2
        self._alpn = []

    @property
    def verify_mode(self):
        return self._verify_mode

    @verify_mode.setter
    def verify_mode(self, value):
        value = VerifyMode(value)
        if value == CERT_NONE and self._check_hostname:
            raise ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")
        self._verify_mode = value

    @property
    def check_hostname(self):
        return self._check_hostname

    @check_hostname.setter
    def check_hostname(self, value):
        if value and self._verify_mode == CERT_NONE:
            self._verify_mode = CERT_REQUIRED
        self._check_hostname = bool(value)

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        # The host's roots decide; guest-supplied roots are not trusted.

    def load_default_certs(self, purpose=Purpose.SERVER_AUTH):
        pass

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        raise _unsupported("client certificates (load_cert_chain)")

    def set_ciphers(self, ciphers):
        pass

    def set_alpn_protocols(self, protocols):
        self._alpn = list(protocols)

    def set_npn_protocols(self, protocols):
        pass

    def set_servername_callback(self, callback):
        self.sni_callback = callback

    def set_ecdh_curve(self, name):
        pass

    def load_dh_params(self, path):
        pass

    def get_ca_certs(self, binary_form=False):
        return []

    def cert_store_stats(self):
        return {"x509_ca": 0, "crl": 0, "x509": 0}

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True,
                    suppress_ragged_eofs=True, server_hostname=None, session=None):
        if server_side:
            raise _unsupported("server-side TLS")
        if not isinstance(sock, _eryx_net.socket):
            raise TypeError("wrap_socket needs a socket of the sandbox")
        if server_hostname is None:
            if self._check_hostname:
                raise ValueError("check_hostname requires server_hostname")
            server_hostname = sock._peer[0] if sock._peer else None
        if isinstance(server_hostname, (bytes, bytearray)):
            server_hostname = server_hostname.decode("idna")
        return SSLSocket._create(sock, self, server_hostname)

    def wrap_bio(self, *args, **kwargs):
        raise _unsupported("SSLContext.wrap_bio")


@_reporting(
    lambda: None, "cipher", "shared_ciphers", "compression", "selected_alpn_protocol", "selected_npn_protocol"
)
@_reporting(list, "get_verified_chain", "get_unverified_chain")
class SSLSocket(_eryx_net.socket):
    """A connection on which the host runs TLS."""

    def __init__(self, *args, **kwargs):
        raise TypeError(
            f"{self.__class__.__name__} does not have a public constructor. "
            "Instances are returned by SSLContext.wrap_socket()."
        )

    @classmethod
    def _create(cls, sock, context, server_hostname):
        self = cls.__new__(cls)
        self.__dict__.update(sock.__dict__)
        self._io_refs = 0
        # The connection now belongs to the TLS socket.
        sock._conn = None
        sock._closed = True
        self.context = context
        self.server_hostname = server_hostname
        self.server_side = False
        self.session = None
        self.session_reused = False
        conn = self._check()
        ms = _eryx_net._ms(None if self._timeout == 0 else self._timeout)
        try:
            self._version = eryx._net_start_tls(conn, server_hostname or "", ms)
        except OSError as e:
            self._conn = None
            self._closed = True
            raise _eryx_net.error_from(e) from None
        return self

    def do_handshake(self, block=False):
        pass

    def version(self):
        return self._version if self._conn is not None else None

    def getpeercert(self, binary_form=False):
        """What the host verified: the certificate is valid for
        ``server_hostname`` (its other fields are not available here)."""
        self._check()
        if binary_form:
            return None
        name = self.server_hostname or ""
        kind = "IP Address" if name.replace(".", "").isdigit() or ":" in name else "DNS"
        return {"subject": ((("commonName", name),),), "subjectAltName": ((kind, name),)}

    def get_channel_binding(self, cb_type="tls-unique"):
        return None

    def read(self, len=1024, buffer=None):
        if buffer is not None:
            return self.recv_into(buffer, len)
        return self.recv(len)

    def unwrap(self):
        raise _unsupported("SSLSocket.unwrap")

    def verify_client_post_handshake(self):
        raise _unsupported("post-handshake authentication")


SSLContext.sslsocket_class = SSLSocket


def create_default_context(purpose=Purpose.SERVER_AUTH, *, cafile=None, capath=None, cadata=None):
    if purpose != Purpose.SERVER_AUTH:
        raise _unsupported("server-side contexts")
    ctx = SSLContext(PROTOCOL_TLS_CLIENT)
    if cafile or capath or cadata:
        ctx.load_verify_locations(cafile, capath, cadata)
    return ctx


def _create_unverified_context(protocol=None, *, cert_reqs=CERT_NONE, check_hostname=False,
                               purpose=Purpose.SERVER_AUTH, certfile=None, keyfile=None,
                               cafile=None, capath=None, cadata=None):
    """As CPython's, but the host still verifies the certificate."""
    ctx = SSLContext(protocol or PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = check_hostname
    ctx.verify_mode = cert_reqs
    return ctx


_create_default_https_context = create_default_context
_create_stdlib_context = _create_unverified_context


def get_server_certificate(addr, ssl_version=None, ca_certs=None, timeout=None):
    raise _unsupported("ssl.get_server_certificate")


def _register():
    import sys

    # Public names report the module they are imported from.
    for value in list(globals().values()):
        if isinstance(value, type) and value.__module__ == __name__:
            value.__module__ = "ssl"
    sys.modules.setdefault("ssl", sys.modules[__name__])


_register()
