#ifndef SYMBOLON_CGNUTLS_H
#define SYMBOLON_CGNUTLS_H
// GnuTLS from Debian's libgnutls28-dev: the TLS handshake and record layer. Only Sources/TLS imports it.
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/crypto.h>
#endif
