// Entry point of both QEMU ports (ports/qemu_mps2, ports/qemu_xtensa; called by their start code). With a
// script named on QEMU's command line (mps2: -append main.py; xtensa: -semihosting-config ...,arg=main.py)
// run it and exit with its status (mode 1); without one, serve the REPL and raw REPL on the console (mode 2,
// used by mpremote). What differs between the cores comes from their mphalport.h (memory, whether
// instructions are counted) and the #ifs below (the GC's register scan, the armv6m unaligned trap).
#include <string.h>
#include "py/compile.h"
#include "py/runtime.h"
#include "py/gc.h"
#include "py/lexer.h"
#include "py/builtin.h"
#include "py/stackctrl.h"
#include "py/mphal.h"
#include "shared/readline/readline.h"
#include "shared/runtime/pyexec.h"
#include "semihost.h"
#include "port.h"
#if defined(__xtensa__)
void xt_spill_windows(void);    // ports/qemu_xtensa/start.S
#else
#include "shared/runtime/gchelper.h"
#endif

static void vm_init(void) {
    mp_stack_set_top(PORT_STACK_TOP);
    mp_stack_set_limit(PORT_STACK_LIMIT);
    gc_init(PORT_HEAP_START, PORT_HEAP_END);
    mp_init();
}

// ---- file access the core expects (import of .py/.mpy, lexer) -------------------------------------

void mp_reader_new_file(mp_reader_t *reader, qstr filename) {
    size_t len;
    byte *buf = port_read_file(qstr_str(filename), &len);
    #if defined(__arm__) && !defined(__ARM_FEATURE_UNALIGNED)
    // A native .mpy for armv6m (header "M", version, arch << 2 in byte 2; MP_NATIVE_ARCH_ARMV6M is 4) is code
    // for a Cortex-M0/M0+, which faults on unaligned word and halfword accesses. From here on the board
    // does too (CCR.UNALIGN_TRP, mphalport.c), so that such an access in the module shows up here as a
    // HardFault instead of on a Pico. Only in a firmware built with -mno-unaligned-access (the M3 build:
    // GCC then leaves __ARM_FEATURE_UNALIGNED undefined), whose own code never accesses memory unaligned.
    if (len >= 4 && buf[0] == 'M' && (buf[2] >> 2) == 4) {
        mp_hal_unaligned_trap(1);
    }
    #endif
    mp_reader_new_mem(reader, buf, len, len + 1);   // frees the buffer when closed
}

mp_lexer_t *mp_lexer_new_from_file(qstr filename) {
    mp_reader_t reader;
    mp_reader_new_file(&reader, filename);
    return mp_lexer_new(filename, reader);
}

mp_import_stat_t mp_import_stat(const char *path) {
    int kind = port_path_kind(path, NULL);
    return kind == 2 ? MP_IMPORT_STAT_DIR : kind == 1 ? MP_IMPORT_STAT_FILE : MP_IMPORT_STAT_NO_EXIST;
}

// ---- mode 1: run a script ---------------------------------------------------------------------------

// Exit status for an exception that ended the script: SystemExit's code, else 1 after the traceback.
static int exit_status(mp_obj_t exc) {
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        mp_obj_t code = mp_obj_exception_get_value(exc);
        if (code == mp_const_none) {
            return 0;
        }
        mp_int_t status;
        if (mp_obj_get_int_maybe(code, &status)) {
            return status & 0xff;
        }
        mp_obj_print(code, PRINT_STR);
        mp_hal_stdout_tx_str("\r\n");
        return 1;
    }
    mp_obj_print_exception(&mp_plat_print, exc);
    return 1;
}

static int run_script(const char *path) {
    vm_init();
    int status = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        qstr name = qstr_from_str(path);
        mp_store_global(MP_QSTR___file__, MP_OBJ_NEW_QSTR(name));
        mp_lexer_t *lex = mp_lexer_new_from_file(name);
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t fun = mp_compile(&tree, name, false);
        mp_call_function_0(fun);
        nlr_pop();
    } else {
        status = exit_status(MP_OBJ_FROM_PTR(nlr.ret_val));
    }
    gc_sweep_all();     // runs finalisers: closes files the script left open
    mp_deinit();
    return status;
}

// Words of the semihosting command line after the firmware's name: "<script> [<count file>]".
static int cmdline_words(char *buf, size_t len, char **words, int max) {
    if (sh_cmdline(buf, len) != 0) {
        return 0;
    }
    int n = -1;     // the first word is the firmware (QEMU's -kernel, or the first arg= on Xtensa)
    for (char *p = buf; *p && n < max;) {
        while (*p == ' ') {
            *p++ = 0;
        }
        if (*p) {
            if (n >= 0) {
                words[n] = p;
            }
            n++;
        }
        while (*p && *p != ' ') {
            p++;
        }
        if (*p) {
            *p++ = 0;
        }
    }
    return n < 0 ? 0 : n;
}

// The instruction count of a whole script run goes to a host file the caller names, so that stdout
// stays exactly what the script printed.
static void write_count(const char *path, uint64_t count) {
    char text[24];
    char *p = text + sizeof(text);
    *--p = '\n';
    do {
        *--p = '0' + count % 10;
        count /= 10;
    } while (count);
    int n = text + sizeof(text) - p;
    int h = sh_open(port_host_path(path), SH_MODE_WB);
    if (h >= 0) {
        sh_write(h, p, n);
        sh_close(h);
    }
}

// ---- entry --------------------------------------------------------------------------------------------

int main(void) {
    mp_hal_init();

    static char cmdline[512];
    char *words[2];
    int n = cmdline_words(cmdline, sizeof(cmdline), words, 2);
    if (n >= 1) {
        uint64_t start = mp_hal_instructions();
        int status = run_script(words[0]);
        if (n >= 2 && mp_hal_counting_instructions()) {
            write_count(words[1], mp_hal_instructions() - start);
        }
        return status;
    }

    for (;;) {
        vm_init();
        readline_init0();
        for (;;) {
            if (pyexec_mode_kind == PYEXEC_MODE_RAW_REPL) {
                if (pyexec_raw_repl() != 0) {
                    break;
                }
            } else if (pyexec_friendly_repl() != 0) {
                break;
            }
        }
        mp_printf(&mp_plat_print, "MPY: soft reboot\n");
        gc_sweep_all();
        mp_deinit();
    }
}

void gc_collect(void) {
    gc_collect_start();
    #if defined(__xtensa__)
    // The windowed ABI keeps the callers' registers in the register file until a window overflow: spill
    // them all, then every register of every caller is on the stack. A caller's a0-a3 lie in the 16 bytes
    // below its callee's stack pointer, so the scan starts a little below this function's own.
    xt_spill_windows();
    uintptr_t sp;
    __asm__ volatile ("or %0, a1, a1" : "=r" (sp));
    sp = (sp - 64) & ~3u;
    gc_collect_root((void **)sp, ((uintptr_t)PORT_STACK_TOP - sp) / sizeof(void *));
    #else
    gc_helper_collect_regs_and_stack();
    #endif
    gc_collect_end();
}

void nlr_jump_fail(void *val) {
    mp_hal_stdout_tx_str("FATAL: uncaught NLR\r\n");
    sh_exit(2);
}

void NORETURN __fatal_error(const char *msg) {
    mp_hal_stdout_tx_str(msg);
    sh_exit(2);
}

#ifndef NDEBUG
void __assert_func(const char *file, int line, const char *func, const char *expr) {
    // Straight to the console, without mp_printf: the failed assertion may be in the printing code itself.
    char digits[12];
    char *p = digits + sizeof(digits);
    *--p = 0;
    do {
        *--p = '0' + line % 10;
        line /= 10;
    } while (line > 0);
    mp_hal_stdout_tx_str("Assertion '");
    mp_hal_stdout_tx_str(expr);
    mp_hal_stdout_tx_str("' failed, at file ");
    mp_hal_stdout_tx_str(file);
    mp_hal_stdout_tx_str(":");
    mp_hal_stdout_tx_str(p);
    __fatal_error("\r\n");
}
#endif
