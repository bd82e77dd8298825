//! Guest code addresses -> `symbol+offset`, for `--perf-map`'s names. The
//! symbols are the ELF `.symtab` and `.dynsym` functions of the file a
//! guest address was mapped from, read once per file on the first block
//! translated in it.
//!
//! Which file: Transit's loader copies the program and its ld.so into
//! anonymous memory, so those two are registered with their load bias
//! (`add_image`); everything else the guest runs from a file (libraries
//! ld.so mmaps, dlopen) is a host mmap of the guest's descriptor, so the
//! host's /proc/self/maps names the file and its offset, read when a block
//! starts outside every region seen so far. No syscall hook is needed, and
//! nothing is read without --perf-map. A region is remembered as long as
//! the process lives: a library dlclose'd and another mapped at the same
//! addresses keeps the first one's names (perf has the same blind spot
//! with its map files).
//!
//! A stripped, unreadable, deleted or malformed file has no symbols: its
//! blocks keep their address names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use goblin::elf::{program_header as ph, sym, Elf};

/// A file's function symbols, sorted by address, and where its segments
/// come from in the file.
#[derive(Debug, Default)]
pub struct SymbolTable {
    symbols: Vec<Symbol>,
    loads: Vec<Load>,
}

/// A PT_LOAD's file range and the address it is linked at.
#[derive(Debug)]
struct Load {
    offset: u64,
    filesz: u64,
    vaddr: u64,
    memsz: u64,
}

#[derive(Debug)]
struct Symbol {
    value: u64,
    /// 0: unknown (hand-written assembly), then it covers up to the next symbol.
    size: u64,
    name: Box<str>,
}

impl SymbolTable {
    /// The functions of an ELF file; none if it is not one.
    pub fn from_elf(bytes: &[u8]) -> SymbolTable {
        let Ok(elf) = Elf::parse(bytes) else { return SymbolTable::default() };
        let mut symbols: Vec<(Symbol, (usize, u8))> = Vec::new();
        for (syms, strtab) in [(&elf.syms, &elf.strtab), (&elf.dynsyms, &elf.dynstrtab)] {
            for s in syms.iter() {
                let is_code = matches!(s.st_type(), sym::STT_FUNC | sym::STT_GNU_IFUNC);
                if !is_code || s.st_shndx == 0 || s.st_value == 0 {
                    continue;
                }
                let Some(name) = strtab.get_at(s.st_name).filter(|n| !n.is_empty()) else { continue };
                // Among aliases of one address the plainest name wins:
                // `puts` over glibc's `_IO_puts`, global over local.
                let rank = (name.len() - name.trim_start_matches('_').len(), u8::from(s.st_bind() != sym::STB_GLOBAL));
                symbols.push((Symbol { value: s.st_value, size: s.st_size, name: name.into() }, rank));
            }
        }
        symbols.sort_by(|(a, ra), (b, rb)| a.value.cmp(&b.value).then(ra.cmp(rb)));
        symbols.dedup_by_key(|(s, _)| s.value);
        let loads = elf
            .program_headers
            .iter()
            .filter(|p| p.p_type == ph::PT_LOAD)
            .map(|p| Load { offset: p.p_offset, filesz: p.p_filesz, vaddr: p.p_vaddr, memsz: p.p_memsz })
            .collect();
        SymbolTable { symbols: symbols.into_iter().map(|(s, _)| s).collect(), loads }
    }

    /// The load bias of the file mapped at `start` from file offset
    /// `offset`: the PT_LOAD holding that offset says which file address it is.
    fn load_bias(&self, start: u64, offset: u64) -> Option<u64> {
        let p = self.loads.iter().find(|p| p.offset <= offset && offset < p.offset.saturating_add(p.filesz.max(1)))?;
        Some(start.wrapping_sub(p.vaddr.wrapping_add(offset - p.offset)))
    }

    /// The function `vaddr` (an address in the file's own numbering) is
    /// in, and the offset into it.
    pub fn lookup(&self, vaddr: u64) -> Option<(&str, u64)> {
        let i = self.symbols.partition_point(|s| s.value <= vaddr).checked_sub(1)?;
        let s = &self.symbols[i];
        let offset = vaddr - s.value;
        (s.size == 0 || offset < s.size).then_some((&*s.name, offset))
    }
}

/// A range of guest addresses from one file (or from none: anonymous
/// memory, a JIT's code).
struct Region {
    start: u64,
    end: u64,
    /// Guest address minus the file's own address.
    bias: u64,
    table: Option<Arc<SymbolTable>>,
}

/// The regions seen so far and the files read, for one process.
#[derive(Default)]
pub struct GuestSymbols {
    /// Sorted by start; never overlapping.
    regions: Vec<Region>,
    files: HashMap<PathBuf, Option<Arc<SymbolTable>>>,
}

impl GuestSymbols {
    /// An image Transit's loader mapped from `path` with `bias` (its
    /// segments' span is read from the file).
    pub fn add_image(&mut self, path: &Path, bias: u64) {
        let Some(table) = self.file(path) else { return };
        let (Some(lo), Some(hi)) = (table.loads.iter().map(|p| p.vaddr).min(), table.loads.iter().map(|p| p.vaddr.saturating_add(p.memsz)).max()) else {
            return;
        };
        self.insert(Region { start: lo.wrapping_add(bias), end: hi.wrapping_add(bias), bias, table: Some(table) });
    }

    /// `guest` as `symbol` and the offset into it, if a file's symbols name it.
    pub fn lookup(&mut self, guest: u64) -> Option<(&str, u64)> {
        let i = match self.region_of(guest) {
            Some(i) => i,
            None => {
                let region = self.region_from_maps(guest);
                self.insert(region)
            }
        };
        let region = &self.regions[i];
        region.table.as_ref()?.lookup(guest.wrapping_sub(region.bias))
    }

    fn region_of(&self, guest: u64) -> Option<usize> {
        let i = self.regions.partition_point(|r| r.start <= guest).checked_sub(1)?;
        (guest < self.regions[i].end).then_some(i)
    }

    /// Inserts `region`, trimmed to the gap it falls in; returns its index.
    fn insert(&mut self, mut region: Region) -> usize {
        let i = self.regions.partition_point(|r| r.start <= region.start);
        if let Some(before) = i.checked_sub(1).map(|b| &self.regions[b]) {
            region.start = region.start.max(before.end);
        }
        if let Some(after) = self.regions.get(i) {
            region.end = region.end.min(after.start);
        }
        region.end = region.end.max(region.start);
        self.regions.insert(i, region);
        i
    }

    /// The /proc/self/maps line holding `guest`, as a region: a file's,
    /// with its symbols, or one without names.
    fn region_from_maps(&mut self, guest: u64) -> Region {
        let page = guest & !0xfff;
        let unnamed = |start, end| Region { start, end, bias: 0, table: None };
        let Ok(maps) = transit_syscalls::own_maps() else { return unnamed(page, page + 0x1000) };
        let Some(mapping) = maps.lines().filter_map(Mapping::parse).find(|m| m.start <= guest && guest < m.end) else {
            return unnamed(page, page + 0x1000);
        };
        let file = mapping.path.filter(|p| p.starts_with('/') && !p.ends_with(" (deleted)")).and_then(|p| self.file(Path::new(p)));
        match file.and_then(|table| Some((table.load_bias(mapping.start, mapping.offset)?, table))) {
            Some((bias, table)) => Region { start: mapping.start, end: mapping.end, bias, table: Some(table) },
            None => unnamed(mapping.start, mapping.end),
        }
    }

    /// The symbols of the file at `path`, read the first time it is named.
    fn file(&mut self, path: &Path) -> Option<Arc<SymbolTable>> {
        self.files
            .entry(path.to_owned())
            .or_insert_with(|| std::fs::read(path).ok().map(|bytes| Arc::new(SymbolTable::from_elf(&bytes))))
            .clone()
    }
}

/// One line of /proc/PID/maps (proc(5)): `start-end perms offset dev inode [path]`.
struct Mapping<'a> {
    start: u64,
    end: u64,
    offset: u64,
    path: Option<&'a str>,
}

impl<'a> Mapping<'a> {
    fn parse(line: &'a str) -> Option<Mapping<'a>> {
        let mut fields = line.splitn(6, ' ');
        let (start, end) = fields.next()?.split_once('-')?;
        let _perms = fields.next()?;
        let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
        let _dev = fields.next()?;
        let _inode = fields.next()?;
        let path = fields.next().map(str::trim_start).filter(|p| !p.is_empty());
        Some(Mapping { start: u64::from_str_radix(start, 16).ok()?, end: u64::from_str_radix(end, 16).ok()?, offset, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_image() -> Vec<u8> {
        std::fs::read("/proc/self/exe").expect("the test binary is readable")
    }

    #[test]
    fn a_function_is_named_with_the_offset_into_it() {
        let bytes = own_image();
        let elf = Elf::parse(&bytes).unwrap();
        let table = SymbolTable::from_elf(&bytes);
        let (value, size) = elf
            .syms
            .iter()
            .filter(|s| s.st_type() == sym::STT_FUNC && s.st_size > 8)
            .filter(|s| elf.strtab.get_at(s.st_name) == Some("main"))
            .map(|s| (s.st_value, s.st_size))
            .next()
            .expect("the test binary has main");
        assert_eq!(table.lookup(value), Some(("main", 0)));
        assert_eq!(table.lookup(value + 4), Some(("main", 4)));
        assert_ne!(table.lookup(value + size).map(|(n, _)| n), Some("main"), "past its size");
    }

    #[test]
    fn files_that_are_not_elf_have_no_symbols() {
        for bytes in [&b""[..], b"\x7fELF\x02\x01\x01", b"not an ELF file at all, just text"] {
            assert!(SymbolTable::from_elf(bytes).lookup(0x1000).is_none());
            assert!(SymbolTable::from_elf(bytes).load_bias(0x1000, 0).is_none());
        }
        let truncated = &own_image()[..200];
        assert!(SymbolTable::from_elf(truncated).lookup(0x1000).is_none());
    }

    #[test]
    fn maps_lines_parse_with_and_without_paths() {
        let m = Mapping::parse("7f0000001000-7f0000003000 r-xp 00002000 08:01 1234       /usr/lib/x86_64-linux-gnu/libc.so.6").unwrap();
        assert_eq!((m.start, m.end, m.offset, m.path), (0x7f0000001000, 0x7f0000003000, 0x2000, Some("/usr/lib/x86_64-linux-gnu/libc.so.6")));
        let m = Mapping::parse("7f0000001000-7f0000003000 rwxp 00000000 00:00 0 ").unwrap();
        assert_eq!(m.path, None);
        let m = Mapping::parse("1000-2000 r-xp 00000000 00:01 7 /tmp/a file (deleted)").unwrap();
        assert_eq!(m.path, Some("/tmp/a file (deleted)"));
    }

    #[test]
    fn regions_never_overlap_and_unnamed_ones_name_nothing() {
        let mut symbols = GuestSymbols::default();
        let table = Arc::new(SymbolTable { symbols: vec![Symbol { value: 0x100, size: 0x10, name: "f".into() }], loads: Vec::new() });
        symbols.insert(Region { start: 0x1000, end: 0x2000, bias: 0x1000, table: Some(table) });
        symbols.insert(Region { start: 0x1800, end: 0x3000, bias: 0, table: None });
        assert_eq!(symbols.lookup(0x1104), Some(("f", 4)));
        assert_eq!(symbols.lookup(0x1900), None);
        assert_eq!(symbols.lookup(0x2100), None);
        assert!(symbols.regions.windows(2).all(|w| w[0].end <= w[1].start));
    }
}
