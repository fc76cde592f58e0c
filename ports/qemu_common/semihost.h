// ARM semihosting calls: files in QEMU's working directory, the command line, the exit status.
#include <stddef.h>
#include <stdint.h>

enum { SH_MODE_RB = 1, SH_MODE_RPB = 3, SH_MODE_WB = 5, SH_MODE_WPB = 7, SH_MODE_AB = 9, SH_MODE_APB = 11 };

int sh_open(const char *path, int mode);            // handle, or -1
int sh_close(int h);
size_t sh_read(int h, void *buf, size_t len);       // bytes read (0 at end or on error)
size_t sh_write(int h, const void *buf, size_t len); // bytes written
int sh_seek(int h, size_t pos);                     // 0 on success
long sh_flen(int h);                                // file length, or -1
int sh_remove(const char *path);                    // 0 on success
int sh_rename(const char *from, const char *to);    // 0 on success
int sh_errno(void);                                 // host errno of the last failed call
int sh_cmdline(char *buf, size_t len);              // "<kernel> <-append text>", 0 on success
void sh_exit(int status) __attribute__((noreturn));
