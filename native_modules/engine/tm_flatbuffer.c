#include "tm_flatbuffer.h"

static int in_bounds(tm_fb_t *fb, uint32_t pos, uint32_t size) {
    if (pos > fb->n || size > fb->n - pos) {
        fb->bad = 1;
        return 0;
    }
    return 1;
}

uint32_t tm_fb_u8(tm_fb_t *fb, uint32_t pos) {
    return in_bounds(fb, pos, 1) ? fb->b[pos] : 0;
}

uint32_t tm_fb_u16(tm_fb_t *fb, uint32_t pos) {
    return in_bounds(fb, pos, 2) ? (uint32_t)(fb->b[pos] | (fb->b[pos + 1] << 8)) : 0;
}

uint32_t tm_fb_u32(tm_fb_t *fb, uint32_t pos) {
    return in_bounds(fb, pos, 4) ? tm_load_u32(fb->b + pos) : 0;
}

// Follow the uoffset stored at `pos`; targets must lie after it (FlatBuffers offsets point forward).
static uint32_t follow(tm_fb_t *fb, uint32_t pos) {
    uint32_t off = tm_fb_u32(fb, pos);
    if (fb->bad || off == 0 || off > fb->n - pos) {
        fb->bad = 1;
        return 0;
    }
    return pos + off;
}

uint32_t tm_fb_root(tm_fb_t *fb) {
    if (fb->n < 8) {
        fb->bad = 1;
        return 0;
    }
    return follow(fb, 0);
}

uint32_t tm_fb_field(tm_fb_t *fb, uint32_t table, int field, uint32_t size) {
    if (table == 0 || fb->bad) {
        return 0;
    }
    int32_t soff = (int32_t)tm_fb_u32(fb, table);
    int64_t vt = (int64_t)table - soff;
    if (fb->bad || vt < 0 || vt > (int64_t)fb->n - 4) {
        fb->bad = 1;
        return 0;
    }
    uint32_t vtable = (uint32_t)vt;
    uint32_t vt_size = tm_fb_u16(fb, vtable);
    uint32_t tbl_size = tm_fb_u16(fb, vtable + 2);
    if (vt_size < 4 || (vt_size & 1) || !in_bounds(fb, vtable, vt_size) || !in_bounds(fb, table, tbl_size)) {
        fb->bad = 1;
        return 0;
    }
    uint32_t slot = 4 + 2 * (uint32_t)field;
    if (slot + 2 > vt_size) {
        return 0; // field newer than the writer's schema: absent
    }
    uint32_t off = tm_fb_u16(fb, vtable + slot);
    if (off == 0) {
        return 0;
    }
    if (off + size > tbl_size) {
        fb->bad = 1;
        return 0;
    }
    return table + off;
}

uint32_t tm_fb_field_u8(tm_fb_t *fb, uint32_t table, int field, uint32_t dflt) {
    uint32_t p = tm_fb_field(fb, table, field, 1);
    return p ? tm_fb_u8(fb, p) : dflt;
}

int32_t tm_fb_field_i32(tm_fb_t *fb, uint32_t table, int field, int32_t dflt) {
    uint32_t p = tm_fb_field(fb, table, field, 4);
    return p ? (int32_t)tm_fb_u32(fb, p) : dflt;
}

float tm_fb_field_f32(tm_fb_t *fb, uint32_t table, int field, float dflt) {
    uint32_t p = tm_fb_field(fb, table, field, 4);
    return p && !fb->bad ? tm_load_f32(fb->b + p) : dflt;
}

uint32_t tm_fb_table(tm_fb_t *fb, uint32_t table, int field) {
    uint32_t p = tm_fb_field(fb, table, field, 4);
    return p ? follow(fb, p) : 0;
}

uint32_t tm_fb_vector(tm_fb_t *fb, uint32_t table, int field, uint32_t elem_size, uint32_t *len) {
    *len = 0;
    uint32_t v = tm_fb_table(fb, table, field);
    if (v == 0) {
        return 0;
    }
    uint32_t n = tm_fb_u32(fb, v);
    if (fb->bad || (elem_size && n > (fb->n - v - 4) / elem_size)) {
        fb->bad = 1;
        return 0;
    }
    *len = n;
    return v + 4;
}

uint32_t tm_fb_vector_table(tm_fb_t *fb, uint32_t vec, uint32_t i) {
    return follow(fb, vec + 4 * i);
}
