#ifndef SYMBOLON_CSHIMS_H
#define SYMBOLON_CSHIMS_H
// One-line wrappers for OpenSSL macros and Linux syscalls the Swift importer cannot see. No logic lives here.
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

void symbolon_OPENSSL_free(void *pointer);
long symbolon_BIO_get_mem_data(BIO *bio, char **data);
void symbolon_sk_X509_pop_free(STACK_OF(X509) *stack);
void symbolon_sk_X509_CRL_pop_free(STACK_OF(X509_CRL) *stack);
void symbolon_sk_X509_EXTENSION_pop_free(STACK_OF(X509_EXTENSION) *stack);

// Linux: Glibc's module map leaves these headers out; including them here makes epoll_*, eventfd and their
// constants visible to NetCore through `import CShims`.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>

// accept4 is declared only under _GNU_SOURCE, which the importer's Glibc module does not define.
int symbolon_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
// pthread_setname_np is declared only under _GNU_SOURCE too.
int symbolon_pthread_setname_np(pthread_t thread, const char *name);
#endif
