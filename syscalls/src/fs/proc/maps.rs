//! `/proc/self/maps` for the guest: the host's list of this process's
//! mappings (guest addresses are host addresses), rewritten so that what
//! the guest looks for is where it expects it:
//! - Transit's own image and its `[heap]`, `[stack]`, `[vdso]`, `[vvar]`
//!   are left out;
//! - the guest's initial stack is `[stack]` (glibc's pthread_getattr_np
//!   looks for the line holding the stack), its program is named by its
//!   path, and its brk area is `[heap]`;
//! - files under the root filesystem are named by their guest paths.
//!
//! On hosts with addresses above x86_64's 2^47 (`guest_space::host_is_wide`),
//! everything there is Transit's and left out. Elsewhere whatever the guest
//! has not mapped (`guest_regions`) is Transit's too (its code cache,
//! allocations, thread stacks), listed as inaccessible anonymous memory.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::super::rootfs::host_path_to_guest;
use crate::guest_regions::{self, GuestRegions};
use crate::guest_space;
use crate::GuestProcess;

/// Auxiliary vector keys (include/uapi/linux/auxvec.h).
const AT_PHDR: u64 = 3;

/// Names of the kernel's special mappings, which belong to Transit.
const HOST_SPECIAL: &[&str] = &[
    "[heap]",
    "[stack]",
    "[vdso]",
    "[vvar]",
    "[vvar_vclock]",
    "[vectors]",
    "[sigpage]",
    "[uprobes]",
];

/// One line of a maps file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mapping {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) perms: String,
    offset: u64,
    dev: String,
    inode: u64,
    name: String,
}

impl Mapping {
    pub(crate) fn parse(line: &str) -> Option<Mapping> {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let mut rest = line;
        for _ in 0..5 {
            rest = rest.trim_start().split_once(' ').map_or("", |(_, r)| r);
        }
        let perms = fields.next()?.to_string();
        let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
        let dev = fields.next()?.to_string();
        let inode = fields.next()?.parse().ok()?;
        Some(Mapping {
            start: u64::from_str_radix(start, 16).ok()?,
            end: u64::from_str_radix(end, 16).ok()?,
            perms,
            offset,
            dev,
            inode,
            name: rest.trim_start().to_string(),
        })
    }

    /// The kernel's format (fs/proc/task_mmu.c show_vma_header_prefix): the
    /// name starts in column 74, an unnamed line ends in a space.
    fn write(&self, out: &mut String) {
        let head = format!(
            "{:08x}-{:08x} {} {:08x} {} {} ",
            self.start, self.end, self.perms, self.offset, self.dev, self.inode
        );
        out.push_str(&head);
        if !self.name.is_empty() {
            out.push_str(&" ".repeat(73usize.saturating_sub(head.len())));
            out.push_str(&self.name);
        }
        out.push('\n');
    }

    fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }
}

/// Where the guest's own parts are.
struct GuestLayout {
    /// The program's image (its bss is cut apart from a heap the kernel merged it with).
    image: Range<u64>,
    /// The brk heap in use.
    heap: Range<u64>,
    /// End of the initial stack.
    stack_top: u64,
    rootfs: Option<PathBuf>,
    /// Transit's own mappings lie where the guest may map (a host whose
    /// space ends at 2^47 or lower): they are listed as inaccessible
    /// anonymous memory rather than left out, so that a guest looking here
    /// for free room (PHP's JIT maps its buffer with MAP_FIXED into a hole
    /// it finds) does not pick Transit's.
    reserve_own: bool,
}

pub(crate) fn guest_maps(process: &GuestProcess) -> String {
    let host = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut mappings: Vec<Mapping> = host.lines().filter_map(Mapping::parse).collect();
    let wide = guest_space::host_is_wide();
    let mut unmapped_by_guest = Vec::new();
    if wide {
        // The guest's memory ends at GUEST_END there; everything above is
        // Transit's (its image, heap, code cache, stacks) or the kernel's.
        mappings = below(mappings, guest_space::GUEST_END);
    } else {
        (mappings, unmapped_by_guest) = split_by_guest_regions(mappings, &guest_regions::lock());
    }
    let image_start = process
        .start
        .aux(AT_PHDR)
        .and_then(|phdr| mappings.iter().find(|m| m.contains(phdr)))
        .map_or(process.brk_start, |m| m.start);
    let layout = GuestLayout {
        image: image_start..process.brk_start,
        heap: process.brk_start..page_up(process.brk_current.lock().map_or(0, |c| *c).max(process.brk_start)),
        stack_top: process.start.stack_top,
        rootfs: process.rootfs.clone(),
        reserve_own: !wide,
    };
    // Our own code lies in Transit's image, whatever its file is called.
    let own_code = guest_maps as *const () as usize as u64;
    let own_image = mappings
        .iter()
        .find(|m| m.contains(own_code))
        .map(|m| m.name.clone());
    rewrite(&mappings, own_image.as_deref(), &layout, &unmapped_by_guest)
}

/// The mappings cut where the guest's own regions begin and end, and for
/// each piece whether the guest left it unmapped: then it is Transit's.
fn split_by_guest_regions(mappings: Vec<Mapping>, regions: &GuestRegions) -> (Vec<Mapping>, Vec<bool>) {
    let (mut pieces, mut unmapped) = (Vec::new(), Vec::new());
    for m in mappings {
        let mut at = m.start;
        let mut push = |start: u64, end: u64, guest: bool| {
            if start < end {
                let offset = if m.name.is_empty() { 0 } else { m.offset + (start - m.start) };
                pieces.push(Mapping { start, end, offset, ..m.clone() });
                unmapped.push(!guest);
            }
        };
        for (start, end) in regions.pieces(m.start, m.end - m.start) {
            push(at, start, false);
            push(start, end.min(m.end), true);
            at = end.min(m.end);
        }
        push(at, m.end, false);
    }
    (pieces, unmapped)
}

/// The mappings, or their parts, below `end`.
fn below(mappings: Vec<Mapping>, end: u64) -> Vec<Mapping> {
    mappings
        .into_iter()
        .filter(|m| m.start < end)
        .map(|m| Mapping { end: m.end.min(end), ..m })
        .collect()
}

fn page_up(addr: u64) -> u64 {
    (addr + 4095) & !4095
}

/// Which mappings are Transit's: its image and the anonymous mappings that
/// adjoin it (bss, and its heap where nothing labels it `[heap]`), and the
/// kernel's special mappings.
fn transit_owned(mappings: &[Mapping], own_image: Option<&str>, layout: &GuestLayout) -> Vec<bool> {
    let mut own: Vec<bool> = mappings
        .iter()
        .map(|m| own_image.is_some_and(|own| !own.is_empty() && m.name == own))
        .collect();
    let guest = |m: &Mapping| {
        let overlaps = |r: &Range<u64>| m.start < r.end && r.start < m.end;
        overlaps(&layout.image)
            || overlaps(&layout.heap)
            || (m.start < layout.stack_top && layout.stack_top <= m.end)
    };
    // Mappings come sorted by address: spread to anonymous neighbours
    // until nothing changes.
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..mappings.len() {
            let m = &mappings[i];
            let touches =
                |j: usize| own[j] && (mappings[j].end == m.start || m.end == mappings[j].start);
            let next_to_own =
                (i > 0 && touches(i - 1)) || (i + 1 < mappings.len() && touches(i + 1));
            if !own[i] && next_to_own && m.name.is_empty() && !guest(m) {
                own[i] = true;
                changed = true;
            }
        }
    }
    for (own, m) in own.iter_mut().zip(mappings) {
        *own |= HOST_SPECIAL.contains(&m.name.as_str());
    }
    own
}

/// `unmapped_by_guest`, where not empty, says of each mapping that the
/// guest never mapped it: it is Transit's.
fn rewrite(mappings: &[Mapping], own_image: Option<&str>, layout: &GuestLayout, unmapped_by_guest: &[bool]) -> String {
    let mut out = String::new();
    let cuts = [
        layout.image.start,
        layout.image.end,
        layout.heap.end,
        layout.stack_top,
    ];
    let mut own = transit_owned(mappings, own_image, layout);
    for (own, &unmapped) in own.iter_mut().zip(unmapped_by_guest) {
        *own |= unmapped;
    }
    // Transit's neighbouring pieces show as one reservation, as the kernel
    // lists one inaccessible anonymous mapping.
    let mut reserved: Option<Mapping> = None;
    for (m, own) in mappings.iter().zip(own) {
        if own {
            match &mut reserved {
                Some(r) if r.end == m.start => r.end = m.end,
                _ if !layout.reserve_own => {}
                _ => {
                    if let Some(r) = reserved.take() {
                        r.write(&mut out);
                    }
                    reserved = Some(Mapping { perms: "---p".into(), offset: 0, dev: "00:00".into(), inode: 0, name: String::new(), ..m.clone() });
                }
            }
            continue;
        }
        if let Some(r) = reserved.take() {
            r.write(&mut out);
        }
        if !m.name.is_empty() {
            let mut named = m.clone();
            if named.name.starts_with('/') {
                named.name = host_path_to_guest(layout.rootfs.as_deref(), Path::new(&m.name))
                    .to_string_lossy()
                    .into_owned();
            }
            named.write(&mut out);
            continue;
        }
        // The kernel merges neighbouring anonymous mappings: cut them where
        // the guest's parts begin and end, then name each piece.
        let mut bounds: Vec<u64> = cuts
            .iter()
            .copied()
            .filter(|&c| c > m.start && c < m.end)
            .collect();
        bounds.sort_unstable();
        bounds.dedup();
        let mut start = m.start;
        for end in bounds.into_iter().chain([m.end]) {
            let mut piece = Mapping {
                start,
                end,
                name: String::new(),
                ..m.clone()
            };
            piece.offset = 0;
            // (The program's file parts are file mappings, named by the
            // kernel; its bss is anonymous, as on x86_64.)
            if layout.heap.start <= start
                && end <= layout.heap.end
                && layout.heap.start < layout.heap.end
            {
                piece.name = "[heap]".into();
            } else if layout.stack_top > start && layout.stack_top <= end {
                piece.name = "[stack]".into();
            }
            piece.write(&mut out);
            start = end;
        }
    }
    if let Some(r) = reserved {
        r.write(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "\
00400000-00401000 r--p 00000000 fe:01 77                         /roots/amd64/home/u/prog
00401000-00480000 r-xp 00001000 fe:01 77                         /roots/amd64/home/u/prog
004a0000-004c8000 rw-p 00000000 00:00 0 
004c8000-404a0000 ---p 00000000 00:00 0 
7000000000-7000400000 r-xp 00000000 fe:01 1234                       /build/target/release/transit
7000400000-7000410000 rw-p 00400000 fe:01 1234                       /build/target/release/transit
7000410000-7000412000 rw-p 00000000 00:00 0 
7000412000-7000432000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000100000 r-xp 00000000 00:00 0 
7f0000100000-7f0000901000 rw-p 00000000 00:00 0 
7f1000000000-7f1000020000 r-xp 00000000 fe:01 99                     /roots/amd64/usr/lib/x86_64-linux-gnu/libc.so.6
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                      [stack]
7ffd00030000-7ffd00032000 r-xp 00000000 00:00 0                      [vdso]
";

    fn layout() -> GuestLayout {
        GuestLayout {
            image: 0x400000..0x4a2000,
            heap: 0x4a2000..0x4c8000,
            stack_top: 0x7f0000900000,
            rootfs: Some("/roots/amd64".into()),
            reserve_own: false,
        }
    }

    fn rewritten() -> Vec<Mapping> {
        let mappings: Vec<Mapping> = HOST.lines().map(|l| Mapping::parse(l).unwrap()).collect();
        let own = "/build/target/release/transit";
        rewrite(&mappings, Some(own), &layout(), &[])
            .lines()
            .map(|l| Mapping::parse(l).unwrap())
            .collect()
    }

    fn line(start: u64, end: u64, perms: &str, name: &str) -> (u64, u64, String, String) {
        (start, end, perms.into(), name.into())
    }

    #[test]
    fn transit_is_hidden_and_the_guest_parts_are_named() {
        let got: Vec<_> = rewritten()
            .into_iter()
            .map(|m| (m.start, m.end, m.perms, m.name))
            .collect();
        assert_eq!(
            got,
            [
                line(0x400000, 0x401000, "r--p", "/home/u/prog"),
                line(0x401000, 0x480000, "r-xp", "/home/u/prog"),
                // The bss page and the heap, merged by the kernel, cut apart.
                line(0x4a0000, 0x4a2000, "rw-p", ""),
                line(0x4a2000, 0x4c8000, "rw-p", "[heap]"),
                line(0x4c8000, 0x404a0000, "---p", ""),
                line(0x7f0000000000, 0x7f0000100000, "r-xp", ""),
                line(0x7f0000100000, 0x7f0000900000, "rw-p", "[stack]"),
                line(0x7f0000900000, 0x7f0000901000, "rw-p", ""),
                line(
                    0x7f1000000000,
                    0x7f1000020000,
                    "r-xp",
                    "/usr/lib/x86_64-linux-gnu/libc.so.6"
                ),
            ]
        );
    }

    #[test]
    fn what_the_guest_never_mapped_is_listed_as_transits() {
        // A host mapping the guest mapped only the middle of (the kernel
        // merged it with Transit's anonymous memory on both sides).
        let base = 0x3f_0000_0000u64;
        crate::guest_regions::record(base + 0x2000, 0x1000);
        let host = format!("{:x}-{:x} rw-p 00000000 00:00 0 ", base, base + 0x4000);
        let (pieces, unmapped) = split_by_guest_regions(vec![Mapping::parse(&host).unwrap()], &crate::guest_regions::lock());
        let got: Vec<_> = pieces.iter().zip(&unmapped).map(|(m, &u)| (m.start - base, m.end - base, u)).collect();
        assert_eq!(got, [(0, 0x2000, true), (0x2000, 0x3000, false), (0x3000, 0x4000, true)]);
        let layout = GuestLayout { reserve_own: true, ..layout() };
        let listed: Vec<Mapping> = rewrite(&pieces, None, &layout, &unmapped).lines().map(|l| Mapping::parse(l).unwrap()).collect();
        let perms: Vec<_> = listed.iter().map(|m| m.perms.as_str()).collect();
        assert_eq!(perms, ["---p", "rw-p", "---p"]);
    }

    #[test]
    fn on_a_wide_host_nothing_from_the_guest_end_on_is_listed() {
        let end = guest_space::GUEST_END;
        let wide = "\
7fffffffe000-800000010000 rw-p 00000000 00:00 0 
aaaac0000000-aaaac0400000 r-xp 00000000 fe:01 1234                       /usr/bin/transit
ffff80000000-ffff80800000 rw-p 00000000 00:00 0 
";
        let kept = below(wide.lines().map(|l| Mapping::parse(l).unwrap()).collect(), end);
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].start, kept[0].end), (0x7fff_ffff_e000, end));
    }

    #[test]
    fn where_the_guest_may_map_transit_is_listed_as_inaccessible_memory() {
        let mappings: Vec<Mapping> = HOST.lines().map(|l| Mapping::parse(l).unwrap()).collect();
        let layout = GuestLayout { reserve_own: true, ..layout() };
        let listed: Vec<Mapping> = rewrite(&mappings, Some("/build/target/release/transit"), &layout, &[])
            .lines()
            .map(|l| Mapping::parse(l).unwrap())
            .collect();
        let image = listed.iter().find(|m| m.start == 0x7000000000).expect("Transit's image listed");
        // With its bss and heap next to it: one reservation.
        assert_eq!((image.end, image.perms.as_str(), image.name.as_str(), image.inode), (0x7000432000, "---p", "", 0));
        assert!(listed.iter().all(|m| !m.name.contains("transit") && m.name != "[vdso]"));
        let vdso = listed.iter().find(|m| m.start == 0x7ffd00030000).expect("the host's vdso listed");
        assert_eq!((vdso.perms.as_str(), vdso.name.as_str()), ("---p", ""));
    }

    #[test]
    fn lines_have_the_kernel_format() {
        let mut out = String::new();
        Mapping::parse("7f1000000000-7f1000020000 r-xp 00001000 fe:01 99 /lib/libc.so.6")
            .unwrap()
            .write(&mut out);
        Mapping::parse("00400000-00401000 rw-p 00000000 00:00 0")
            .unwrap()
            .write(&mut out);
        assert_eq!(
            out,
            "7f1000000000-7f1000020000 r-xp 00001000 fe:01 99                         /lib/libc.so.6\n\
             00400000-00401000 rw-p 00000000 00:00 0 \n"
        );
        let named = out.lines().next().unwrap();
        assert_eq!(named.find('/'), Some(73));
    }

    #[test]
    fn names_with_spaces_survive() {
        let m = Mapping::parse("1000-2000 rw-s 00000000 00:05 7    /memfd:a b (deleted)").unwrap();
        assert_eq!(m.name, "/memfd:a b (deleted)");
        assert_eq!(m.inode, 7);
    }
}
