// libFuzzer entry point: any byte string is a candidate .tflite. Loading, planning, preparing and invoking
// must either succeed or fail with an error message; AddressSanitizer/UBSan flag any out-of-bounds access.
#include <stdlib.h>
#include "tm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The engine requires a 4-byte aligned buffer, as on the device: copy into fresh malloc'd memory,
    // sized exactly so that reads past the end are caught.
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    char error[TM_ERR_LEN];
    uint32_t block_bytes;
    if (tm_model_measure(buf, size, &block_bytes, error) == TM_OK) {
        void *block = malloc(block_bytes);
        if (tm_model_load(block, block_bytes, buf, size, size & 1 ? TM_KEEP_INPUTS : 0, error) == TM_OK) {
            tm_model_t *m = block;
            if (m->arena_bytes < (64u << 20)) {
                uint8_t *arena = malloc(m->arena_bytes ? m->arena_bytes : 8);
                if (tm_model_prepare(m, arena) == TM_OK) {
                    // Twice, and after a reset: stateful models (resource variables, CALL_ONCE) change state.
                    tm_model_invoke(m);
                    tm_model_invoke(m);
                    tm_model_reset(m);
                    tm_model_invoke(m);
                }
                free(arena);
            }
        }
        free(block);
    }
    free(buf);
    return 0;
}
