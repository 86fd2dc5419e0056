#define _GNU_SOURCE
#include "CShims.h"

void symbolon_OPENSSL_free(void *pointer) { OPENSSL_free(pointer); }
long symbolon_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
void symbolon_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }
void symbolon_sk_X509_CRL_pop_free(STACK_OF(X509_CRL) *stack) { sk_X509_CRL_pop_free(stack, X509_CRL_free); }
void symbolon_sk_X509_EXTENSION_pop_free(STACK_OF(X509_EXTENSION) *stack) {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
}
int symbolon_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) { return accept4(fd, addr, len, flags); }
int symbolon_pthread_setname_np(pthread_t thread, const char *name) { return pthread_setname_np(thread, name); }
