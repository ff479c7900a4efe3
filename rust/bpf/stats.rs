// SPDX-License-Identifier: GPL-2.0

//! How many maps of each type this module created, read-only in debugfs.
//!
//! `make test` reads `/sys/kernel/debug/rust_arraymap/maps_created` before and after the module's
//! run of a test: a comparison of C and Rust proves nothing about a type whose count did not
//! move. One line per served type, `<bpftool name> <count>`; the counts start at 0 with every
//! load of the module.

use core::fmt;
use kernel::{
    debugfs,
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
};

use super::attr::MapType;

/// One map type and the number of its maps that [`record`] has seen created.
struct TypeCount {
    map_type: MapType,
    name: &'static str,
    created: Atomic<u64>,
}

impl TypeCount {
    const fn new(map_type: MapType, name: &'static str) -> Self {
        Self {
            map_type,
            name,
            created: Atomic::new(0),
        }
    }
}

/// The per-type counts of the module's maps, rendered as the debugfs file's text.
pub(crate) struct CreationCounts([TypeCount; 6]);

static CREATED: CreationCounts = CreationCounts([
    TypeCount::new(MapType::Array, "array"),
    TypeCount::new(MapType::PercpuArray, "percpu_array"),
    TypeCount::new(MapType::ProgArray, "prog_array"),
    TypeCount::new(MapType::PerfEventArray, "perf_event_array"),
    TypeCount::new(MapType::CgroupArray, "cgroup_array"),
    TypeCount::new(MapType::ArrayOfMaps, "array_of_maps"),
]);

/// Counts one map of `map_type` created by the module.
pub(crate) fn record(map_type: MapType) {
    if let Some(t) = CREATED.0.iter().find(|t| t.map_type == map_type) {
        t.created.add(1, Relaxed);
    }
}

// A hand-written `Debug` (what debugfs renders), so that the file's format does not depend on
// the compiler's derived output.
impl fmt::Debug for CreationCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{} {}", t.name, t.created.load(Relaxed))?;
        }
        Ok(())
    }
}

/// The debugfs file `rust_arraymap/maps_created`; removed when dropped.
pub(crate) type CreationCountsFile = Pin<KBox<debugfs::File<&'static CreationCounts>>>;

/// Creates `rust_arraymap/maps_created` in debugfs.
///
/// Without debugfs (not configured, or its directory could not be made) the counts are still
/// kept and nothing is shown: debugfs is a test aid, never a reason to fail the module's load.
/// Only the allocation of the file's handle can fail.
pub(crate) fn creation_counts_file() -> Result<CreationCountsFile> {
    let dir = debugfs::Dir::new(c"rust_arraymap");
    KBox::pin_init(dir.read_only_file(c"maps_created", &CREATED), GFP_KERNEL)
}
