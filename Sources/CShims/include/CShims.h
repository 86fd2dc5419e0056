#ifndef SYMBOLON_CSHIMS_H
#define SYMBOLON_CSHIMS_H
// One-line wrappers for OpenSSL macros the Swift importer cannot see. No logic lives here.
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

void symbolon_OPENSSL_free(void *pointer);
long symbolon_BIO_get_mem_data(BIO *bio, char **data);
void symbolon_sk_X509_pop_free(STACK_OF(X509) *stack);
void symbolon_sk_X509_CRL_pop_free(STACK_OF(X509_CRL) *stack);
void symbolon_sk_X509_EXTENSION_pop_free(STACK_OF(X509_EXTENSION) *stack);
#endif
