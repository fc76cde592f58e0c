"""A minimal static linker for Xtensa ELF relocatables as llvm-mc-22 writes them (Debian's LLVM has no Xtensa
linker): lays out a bare-metal image for qemu-system-xtensa. Used by the Xtensa build and engine tests."""

from elftools.elf.elffile import ELFFile



R_XTENSA_NONE, R_XTENSA_32, R_XTENSA_ASM_EXPAND, R_XTENSA_SLOT0_OP = 0, 1, 11, 20


def link_image(objects, base, allow_undefined=False):
    """Lay out the first object's literal pool just below `base` and its code at `base` (start.S: the vectors),
    then every other object's literal pool followed by its code (l32r only reaches backwards, at most
    256 KiB, so each pool sits right before the code using it), then all read-only and writable data (.bss
    zero-filled in the image). Applies R_XTENSA_32 and R_XTENSA_SLOT0_OP (l32r, call0/4/8/12). Duplicate
    global symbols are errors, and undefined ones too unless `allow_undefined` (they then resolve to 0: code
    that is linked but never run, such as MicroPython wrappers). Returns (load address, image bytes, symbols)."""
    elfs = [ELFFile(open(o, "rb")) for o in objects]
    code, data = [[] for _ in elfs], []  # code[k]: object k's literal sections, then its text sections
    for k, e in enumerate(elfs):
        for i, s in enumerate(e.iter_sections()):
            if s.header.sh_type in ("SHT_PROGBITS", "SHT_NOBITS") and s.header.sh_flags & 2:  # SHF_ALLOC
                if s.name.startswith(".literal"):
                    code[k].insert(0, (e, i, s))
                elif s.name.startswith(".text"):
                    code[k].append((e, i, s))
                else:
                    data.append((e, i, s))
    first_lits = [m for m in code[0] if m[2].name.startswith(".literal")]
    lit_size = sum((s.data_size + 3) & ~3 for _, _, s in first_lits)
    start = base - ((lit_size + 15) & ~15)
    addr = {}
    pos = start
    for e, i, s in sum(code, []) + data:
        if s is code[0][len(first_lits)][2]:
            assert pos <= base
            pos = base
        align = max(s.header.sh_addralign, 4)
        pos = (pos + align - 1) & ~(align - 1)
        addr[(id(e), i)] = pos
        pos += s.data_size
    image = bytearray(pos - start)
    for e, i, s in sum(code, []) + data:
        if s.header.sh_type == "SHT_PROGBITS":
            a = addr[(id(e), i)] - start
            image[a: a + s.data_size] = s.data()

    symbols = {}
    for e, path in zip(elfs, objects):
        for sym in e.get_section_by_name(".symtab").iter_symbols():
            if sym["st_info"]["bind"] == "STB_GLOBAL" and sym["st_shndx"] != "SHN_UNDEF":
                assert sym.name not in symbols, "duplicate symbol %s (%s)" % (sym.name, path)
                symbols[sym.name] = addr[(id(e), sym["st_shndx"])] + sym["st_value"]

    def sym_addr(e, sym):
        shndx = sym["st_shndx"]
        if shndx == "SHN_UNDEF":
            assert sym.name in symbols or allow_undefined, "undefined symbol %s" % sym.name
            return symbols.get(sym.name, 0)
        if shndx == "SHN_ABS":
            return sym["st_value"]
        return addr[(id(e), shndx)] + sym["st_value"]

    for e in elfs:
        symtab = list(e.get_section_by_name(".symtab").iter_symbols())
        for rs in e.iter_sections():
            if rs.header.sh_type not in ("SHT_RELA", "SHT_REL"):
                continue
            if (id(e), rs.header.sh_info) not in addr:
                continue  # relocations of non-allocated sections
            assert rs.header.sh_type == "SHT_RELA"
            sec_addr = addr[(id(e), rs.header.sh_info)]
            for r in rs.iter_relocations():
                sym = symtab[r["r_info_sym"]]
                P = sec_addr + r["r_offset"]
                T = sym_addr(e, sym) + r["r_addend"]
                o = P - start
                t = r["r_info_type"]
                if t == R_XTENSA_32:
                    v = int.from_bytes(image[o: o + 4], "little") + T
                    image[o: o + 4] = (v & 0xFFFFFFFF).to_bytes(4, "little")
                elif t == R_XTENSA_SLOT0_OP:
                    ins = int.from_bytes(image[o: o + 3], "little")
                    if ins & 0xF == 1:  # l32r: literal at ((P + 3) & ~3) + (negative imm16 << 2)
                        off = T - ((P + 3) & ~3)
                        assert -0x40000 <= off < 0 and off % 4 == 0, "l32r out of range: %#x" % off
                        ins = (ins & 0xFF) | ((off >> 2) & 0xFFFF) << 8
                    elif ins & 0xF == 5:  # call0/4/8/12: target (P & ~3) + 4 + (offset << 2)
                        off = T - ((P & ~3) + 4)
                        assert off % 4 == 0 and -(1 << 19) <= off < (1 << 19), "call out of range"
                        ins = (ins & 0x3F) | ((off >> 2) & 0x3FFFF) << 6
                    else:  # branch/jump inside its own section: already resolved by the assembler
                        assert sym["st_shndx"] == rs.header.sh_info, "cross-section branch to %s" % sym.name
                        continue
                    image[o: o + 3] = ins.to_bytes(3, "little")
                elif t not in (R_XTENSA_NONE, R_XTENSA_ASM_EXPAND):
                    raise AssertionError("unsupported relocation type %d" % t)
    return start, bytes(image), symbols
