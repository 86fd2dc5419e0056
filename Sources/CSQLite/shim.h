#ifndef SYMBOLON_CSQLITE_H
#define SYMBOLON_CSQLITE_H
#include <sqlite3.h>
#endif
