// Declarations shared by this port's files.
#include "py/obj.h"

// Host path for a device path: files live in QEMU's working directory, "/" being that directory.
const char *port_host_path(const char *path);

// What a path names on the host: 0 nothing, 1 file, 2 directory (see file.c for how it is told).
int port_path_kind(const char *path, long *size);

// The whole of a file, in a GC buffer; raises OSError if it cannot be read.
byte *port_read_file(const char *path, size_t *len);
