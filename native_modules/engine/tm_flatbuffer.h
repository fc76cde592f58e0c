// Bounds-checked reading of FlatBuffers (the .tflite container). Every accessor checks that what it reads
// lies inside the buffer; a bad offset sets `bad` and yields 0, so hostile files cannot make the engine read
// out of bounds. Positions are byte offsets from the buffer start; 0 means "absent".
#ifndef TM_FLATBUFFER_H
#define TM_FLATBUFFER_H

#include <stdint.h>

typedef struct {
    const uint8_t *b;
    uint32_t n;
    int bad;        // set on the first out-of-bounds or malformed access
} tm_fb_t;

uint32_t tm_fb_u8(tm_fb_t *fb, uint32_t pos);
uint32_t tm_fb_u16(tm_fb_t *fb, uint32_t pos);
uint32_t tm_fb_u32(tm_fb_t *fb, uint32_t pos);
uint32_t tm_fb_root(tm_fb_t *fb);
// Position of field `field` of the table at `table`, or 0 when the field is absent.
uint32_t tm_fb_field(tm_fb_t *fb, uint32_t table, int field, uint32_t size);
// Scalar fields with their schema default.
uint32_t tm_fb_field_u8(tm_fb_t *fb, uint32_t table, int field, uint32_t dflt);
int32_t tm_fb_field_i32(tm_fb_t *fb, uint32_t table, int field, int32_t dflt);
float tm_fb_field_f32(tm_fb_t *fb, uint32_t table, int field, float dflt);
// Table or vector referenced by an offset field: its position, or 0 when absent.
uint32_t tm_fb_table(tm_fb_t *fb, uint32_t table, int field);
// Vector field: position of its first element; *len receives the element count (0 when absent).
uint32_t tm_fb_vector(tm_fb_t *fb, uint32_t table, int field, uint32_t elem_size, uint32_t *len);
// Element i of a vector of tables.
uint32_t tm_fb_vector_table(tm_fb_t *fb, uint32_t vec, uint32_t i);

// Unaligned little-endian loads for raw data inside the model buffer.
static inline uint32_t tm_load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline int32_t tm_load_i32(const uint8_t *p) {
    return (int32_t)tm_load_u32(p);
}
static inline float tm_load_f32(const uint8_t *p) {
    union { uint32_t u; float f; } v;
    v.u = tm_load_u32(p);
    return v.f;
}

#endif
