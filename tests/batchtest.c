// SPDX-License-Identifier: GPL-2.0
/*
 * batchtest: BPF_MAP_LOOKUP_BATCH and BPF_MAP_UPDATE_BATCH on ARRAY and PERCPU_ARRAY maps, in
 * every case whose outcome the module's chunked batches must share with the kernel's generic
 * functions: bad flags and element flags, count 0, cursors before, at and past the end, more
 * elements asked for than there are, a fault halfway through a buffer (keys, values, the
 * cursor, out_batch, the attributes themselves), a bad key halfway through an update, special
 * fields (a spin lock with and without BPF_F_LOCK, a timer), a frozen map, an MMAPABLE map
 * used as its own buffer, key and value buffers that overlap. Value sizes: 4, 8, 12, 40, 64,
 * 4096 (and per-CPU 4, 8, 256, 4096), so that values go through the stack buffer of the
 * module's chunks, one at a time, and across its edges.
 *
 * One line per case: result, count, out_batch, and checksums of the user buffers (where the
 * call succeeded or ended with ENOENT: after a fault the bytes past it are unspecified) and of
 * the whole map read back element by element. The suite runs it on the C maps and on the
 * module and requires the same lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"

#define PAGE 4096
#define AREA_PAGES 96

static int ncpus, btf_fd;
static size_t page;

struct map {
	const char *name;
	enum bpf_map_type type;
	__u32 value_size, entries, flags, btf_value;
	int fd;
	size_t stride;		/* bytes of one element in a batch's value buffer */
};

/* A read-write area with an inaccessible page right after it: buffers placed so that they
 * end at a chosen byte before that page fault there. */
static unsigned char *area, *guard;

static __u32 fnv(const void *p, size_t n, __u32 h)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 16777619u;
	return h;
}

/* The element-by-element view of the whole map: every value as a syscall lookup returns it. */
static __u32 map_sum(const struct map *m)
{
	unsigned char *v = malloc(m->stride);
	__u32 h = 2166136261u, k;

	for (k = 0; k < m->entries; k++) {
		memset(v, 0x5a, m->stride);
		if (bpf_map_lookup_elem(m->fd, &k, v))
			h = fnv("error", 5, h);
		h = fnv(v, m->stride, h);
	}
	free(v);
	return h;
}

/* Distinct bytes for element @i of a batch drawn with @seed. */
static void pattern(unsigned char *vals, const struct map *m, __u32 n, unsigned int seed)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < m->stride; j++)
			vals[i * m->stride + j] = (unsigned char)(i * 131 + j * 7 + seed);
}

static int untouched(const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		if (*c++ != 0xa5)
			return 0;
	return 1;
}

struct res {
	int ret;
	__u32 count, out;
};

static struct res batch(int cmd, const struct map *m, void *in, void *out, void *keys, void *vals,
			__u32 count, __u64 elem_flags, __u64 flags)
{
	union bpf_attr a = {};
	struct res r;

	a.batch.map_fd = m->fd;
	a.batch.in_batch = (unsigned long)in;
	a.batch.out_batch = (unsigned long)out;
	a.batch.keys = (unsigned long)keys;
	a.batch.values = (unsigned long)vals;
	a.batch.count = count;
	a.batch.elem_flags = elem_flags;
	a.batch.flags = flags;
	r.ret = sys_bpf(cmd, &a);
	r.count = a.batch.count;
	r.out = out && out != (void *)guard ? *(__u32 *)out : 0;
	return r;
}

/* The whole map is read back after each update (and lookup into the map's own memory) only:
 * under KASAN and TCG, reading a 1024-entry map after every page of a lookup takes minutes. */
static void show(const struct map *m, const char *what, struct res r, const void *keys,
		 const void *vals, size_t n, int changes)
{
	printf("%s %s: %s count=%u out=%u", m->name, what, res(r.ret), r.count, r.out);
	if ((r.ret == 0 || r.ret == -ENOENT) && keys)
		printf(" keys=%08x", fnv(keys, n * 4, 2166136261u));
	if ((r.ret == 0 || r.ret == -ENOENT) && vals)
		printf(" vals=%08x", fnv(vals, n * m->stride, 2166136261u));
	if (changes)
		printf(" map=%08x", map_sum(m));
	printf("\n");
}

/* A lookup of @count elements after @cursor (none: from the first) into fresh buffers. */
static void lookup(const struct map *m, const char *what, const __u32 *cursor, __u32 count,
		   __u64 elem_flags, __u64 flags)
{
	size_t n = count < m->entries + 2 ? count : m->entries + 2;
	__u32 *keys = malloc(n * 4 + 64), in = cursor ? *cursor : 0, out = 0xdeadbeef;
	unsigned char *vals = malloc(n * m->stride + 64);
	struct res r;

	memset(keys, 0xa5, n * 4 + 64);
	memset(vals, 0xa5, n * m->stride + 64);
	r = batch(BPF_MAP_LOOKUP_BATCH, m, cursor ? &in : NULL, &out, keys, vals, count,
		  elem_flags, flags);
	show(m, what, r, keys, vals, n, 0);
	if (!untouched((char *)keys + n * 4, 64) || !untouched(vals + n * m->stride, 64))
		printf("%s %s: written past the buffers\n", m->name, what);
	free(keys);
	free(vals);
}

/* An update of @count elements, keys from @keys (NULL: 0, 1, ...), values drawn with @seed. */
static void update(const struct map *m, const char *what, const __u32 *keys_in, __u32 count,
		   unsigned int seed, __u64 elem_flags, __u64 flags)
{
	__u32 *keys = malloc((size_t)count * 4 + 4), i;
	unsigned char *vals = malloc((size_t)count * m->stride + 8);
	struct res r;

	for (i = 0; i < count; i++)
		keys[i] = keys_in ? keys_in[i] : i;
	pattern(vals, m, count, seed);
	r = batch(BPF_MAP_UPDATE_BATCH, m, NULL, NULL, keys, vals, count, elem_flags, flags);
	show(m, what, r, NULL, NULL, 0, 1);
	free(keys);
	free(vals);
}

/* Buffers that end @ok bytes into the area's last page boundary: the byte after faults. */
static void *ending_at_guard(size_t ok)
{
	return guard - ok;
}

static void faults(const struct map *m)
{
	size_t s = m->stride, n = m->entries < 20 ? m->entries : 20;
	__u32 *keys = malloc(n * 4), i, out;
	unsigned char *vals = malloc(n * s);
	unsigned char *gv, *ro;
	union bpf_attr *ra;
	struct res r;
	char what[64];

	for (i = 0; i < n; i++)
		keys[i] = n - 1 - i;
	pattern(vals, m, n, 77);

	/* Lookups: the values end in the middle of element 5 (or 1), then the keys at key 3. */
	for (i = 1; i < n && i <= 5; i += 4) {
		gv = ending_at_guard(i * s + s / 2);
		r = batch(BPF_MAP_LOOKUP_BATCH, m, NULL, &out, keys, gv, n, 0, 0);
		snprintf(what, sizeof(what), "lookup values fault at element %u", i);
		show(m, what, r, NULL, NULL, 0, 0);
	}
	r = batch(BPF_MAP_LOOKUP_BATCH, m, NULL, &out, ending_at_guard(3 * 4 + 2), vals, n, 0, 0);
	show(m, "lookup keys fault at key 3", r, NULL, NULL, 0, 0);
	r = batch(BPF_MAP_LOOKUP_BATCH, m, guard, &out, keys, vals, n, 0, 0);
	show(m, "lookup unreadable cursor", r, NULL, NULL, 0, 0);
	r = batch(BPF_MAP_LOOKUP_BATCH, m, NULL, guard, keys, vals, 2, 0, 0);
	show(m, "lookup unwritable out_batch", r, NULL, NULL, 0, 0);

	/* The attributes in a read-only page: count cannot be written back. */
	ro = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ra = (union bpf_attr *)ro;
	memset(ra, 0, sizeof(*ra));
	ra->batch.map_fd = m->fd;
	ra->batch.out_batch = (unsigned long)&out;
	ra->batch.keys = (unsigned long)keys;
	ra->batch.values = (unsigned long)vals;
	ra->batch.count = 2;
	mprotect(ro, page, PROT_READ);
	r.ret = syscall(__NR_bpf, BPF_MAP_LOOKUP_BATCH, ra, sizeof(*ra)) < 0 ? -errno : 0;
	r.count = ra->batch.count;
	r.out = 0;
	show(m, "lookup read-only attributes", r, NULL, NULL, 0, 0);
	/* (The lookups above wrote keys and values the map holds: new ones, or an update that
	 * stored them before its EFAULT would change nothing.) */
	for (i = 0; i < n; i++)
		keys[i] = n - 1 - i;
	pattern(vals, m, n, 78);
	r.ret = syscall(__NR_bpf, BPF_MAP_UPDATE_BATCH, ra, sizeof(*ra)) < 0 ? -errno : 0;
	r.count = ra->batch.count;
	show(m, "update read-only attributes", r, NULL, NULL, 0, 1);
	/* count 0 returns before count is written back: 0, even where it cannot be. */
	mprotect(ro, page, PROT_READ | PROT_WRITE);
	ra->batch.count = 0;
	mprotect(ro, page, PROT_READ);
	r.ret = syscall(__NR_bpf, BPF_MAP_LOOKUP_BATCH, ra, sizeof(*ra)) < 0 ? -errno : 0;
	r.count = ra->batch.count;
	show(m, "lookup count 0, read-only attributes", r, NULL, NULL, 0, 0);
	r.ret = syscall(__NR_bpf, BPF_MAP_UPDATE_BATCH, ra, sizeof(*ra)) < 0 ? -errno : 0;
	r.count = ra->batch.count;
	show(m, "update count 0, read-only attributes", r, NULL, NULL, 0, 1);
	munmap(ro, page);

	/* Updates: the values end in the middle of element 9 (or 1), the keys at key 9; a key
	 * past the end at 5 with a fault after it, and a fault before it. The lookups above wrote
	 * keys and values before their faults, which are unspecified: drawn afresh. */
	for (i = 0; i < n; i++)
		keys[i] = n - 1 - i;
	pattern(vals, m, n, 77);
	for (i = 1; i < n && i <= 9; i += 8) {
		gv = ending_at_guard(i * s + s / 2);
		memcpy(gv, vals, i * s + s / 2);
		r = batch(BPF_MAP_UPDATE_BATCH, m, NULL, NULL, keys, gv, n, 0, 0);
		snprintf(what, sizeof(what), "update values fault at element %u", i);
		show(m, what, r, NULL, NULL, 0, 1);
		pattern(vals, m, n, 78 + i);
	}
	if (n > 9) {
		__u32 *gk = ending_at_guard(9 * 4 + 1);

		memcpy(gk, keys, 9 * 4 + 1);
		r = batch(BPF_MAP_UPDATE_BATCH, m, NULL, NULL, gk, vals, n, 0, 0);
		show(m, "update keys fault at key 9", r, NULL, NULL, 0, 1);
	}
	if (n > 7) {
		__u32 *gk = ending_at_guard(7 * 4);

		memcpy(gk, keys, 7 * 4);
		gk[5] = m->entries;
		pattern(vals, m, n, 91);
		r = batch(BPF_MAP_UPDATE_BATCH, m, NULL, NULL, gk, vals, n, 0, 0);
		show(m, "update key past the end at 5, fault at key 7", r, NULL, NULL, 0, 1);
		gk = ending_at_guard(3 * 4);
		memcpy(gk, keys, 3 * 4);
		r = batch(BPF_MAP_UPDATE_BATCH, m, NULL, NULL, gk, vals, n, 0, 0);
		show(m, "update keys fault at key 3", r, NULL, NULL, 0, 1);
	}
	free(keys);
	free(vals);
}

static void cases(struct map *m)
{
	static const __u64 eflags[] = {
		1, 2, BPF_F_LOCK, BPF_F_CPU, BPF_F_ALL_CPUS, BPF_F_CPU | BPF_F_ALL_CPUS,
		1ull << 32, BPF_F_CPU | (1ull << 32), BPF_F_CPU | (4095ull << 32), 1u << 31,
		BPF_F_LOCK | BPF_F_CPU,
	};
	__u32 cursors[] = { 0, 1, m->entries - 2, m->entries - 1, m->entries, m->entries + 5,
			    UINT32_MAX };
	__u32 cur, keys[16], i;
	char what[96];

	m->stride = m->type == BPF_MAP_TYPE_PERCPU_ARRAY ?
		((m->value_size + 7) & ~7u) * ncpus : m->value_size;
	m->fd = create_map(m->type, m->value_size, m->entries, m->flags, 0, btf_fd, m->btf_value);
	if (m->fd < 0) {
		printf("%s: create %s\n", m->name, res(m->fd));
		return;
	}
	update(m, "fill", NULL, m->entries, 1, 0, 0);
	lookup(m, "all", NULL, m->entries, 0, 0);
	lookup(m, "more than all", NULL, m->entries + 1000, 0, 0);
	lookup(m, "a million", NULL, 1u << 20, 0, 0);
	cur = 0;
	for (i = 0;; i++) {
		struct res p;
		__u32 kbuf[7], out = 0xdeadbeef;
		unsigned char *vbuf = malloc(7 * m->stride);

		p = batch(BPF_MAP_LOOKUP_BATCH, m, i ? &cur : NULL, &out, kbuf, vbuf, 7, 0, 0);
		snprintf(what, sizeof(what), "page %u", i);
		show(m, what, p, kbuf, vbuf, p.count, 0);
		free(vbuf);
		if (p.ret || i > m->entries)
			break;
		cur = out;
	}
	for (i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
		snprintf(what, sizeof(what), "3 after %u", cursors[i]);
		lookup(m, what, &cursors[i], 3, 0, 0);
	}
	lookup(m, "count 0", NULL, 0, 0, 0);
	update(m, "count 0", NULL, 0, 2, 0, 0);
	lookup(m, "batch flags 1", NULL, 3, 0, 1);
	update(m, "batch flags 1", NULL, 3, 3, 0, 1);
	for (i = 0; i < sizeof(eflags) / sizeof(eflags[0]); i++) {
		snprintf(what, sizeof(what), "lookup elem_flags %#llx", (unsigned long long)eflags[i]);
		lookup(m, what, NULL, 3, eflags[i], 0);
		snprintf(what, sizeof(what), "update elem_flags %#llx", (unsigned long long)eflags[i]);
		update(m, what, NULL, 3, 4 + i, eflags[i], 0);
	}
	/* Keys out of order and repeated, then one past the end in the middle. */
	for (i = 0; i < 16; i++)
		keys[i] = (i * 7) % (m->entries < 5 ? m->entries : 5);
	update(m, "repeated keys", keys, 16, 20, 0, 0);
	keys[6] = m->entries;
	update(m, "key past the end at 6", keys, 16, 21, 0, 0);
	keys[6] = UINT32_MAX;
	update(m, "key UINT32_MAX at 6", keys, 16, 22, 0, 0);
	faults(m);
}

/* An MMAPABLE array whose own mapping is the buffer: the order of the copies shows. */
static void own_buffer(struct map *m)
{
	__u32 keys[64], n = m->entries - 1, i, out;
	unsigned char *mm;
	struct res r;

	mm = mmap(NULL, (size_t)m->entries * m->value_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		  m->fd, 0);
	if (mm == MAP_FAILED) {
		printf("%s: mmap failed\n", m->name);
		return;
	}
	r = batch(BPF_MAP_LOOKUP_BATCH, m, NULL, &out, keys, mm + m->value_size, n, 0, 0);
	show(m, "lookup into its own mapping, one element on", r, keys, NULL, n, 1);
	for (i = 0; i < n; i++)
		keys[i] = i + 1;
	r = batch(BPF_MAP_UPDATE_BATCH, m, NULL, NULL, keys, mm, n, 0, 0);
	show(m, "update from its own mapping, one element back", r, NULL, NULL, 0, 1);
	munmap(mm, (size_t)m->entries * m->value_size);
}

/* Keys and values in one buffer, overlapping. */
static void overlapping(const struct map *m)
{
	unsigned char *buf = calloc(1, 64 * 4 + 64 * m->stride + 64);
	__u32 out;
	struct res r;

	memset(buf, 0xa5, 64 * 4 + 64 * m->stride + 64);
	r = batch(BPF_MAP_LOOKUP_BATCH, m, NULL, &out, buf, buf + 4, 12, 0, 0);
	show(m, "keys and values overlapping", r, buf, NULL, 12 + 12 * m->stride / 4 + 1, 0);
	free(buf);
}

static void frozen(struct map *m)
{
	union bpf_attr a = { .map_fd = m->fd };

	printf("%s freeze: %s\n", m->name, res(sys_bpf(BPF_MAP_FREEZE, &a)));
	update(m, "update frozen", NULL, 2, 30, 0, 0);
	lookup(m, "lookup frozen", NULL, 2, 0, 0);
}

int main(void)
{
	struct map maps[] = {
		{ "array8", BPF_MAP_TYPE_ARRAY, 8, 1024 },
		{ "array4", BPF_MAP_TYPE_ARRAY, 4, 37 },
		{ "array12", BPF_MAP_TYPE_ARRAY, 12, 10 },
		{ "array64", BPF_MAP_TYPE_ARRAY, 64, 100 },
		{ "array4k", BPF_MAP_TYPE_ARRAY, 4096, 12 },
		{ "lockval", BPF_MAP_TYPE_ARRAY, 40, 16, 0, T_LOCKVAL },
		{ "timerval", BPF_MAP_TYPE_ARRAY, 24, 8, 0, T_VAL },
		{ "mmapable", BPF_MAP_TYPE_ARRAY, 8, 64, BPF_F_MMAPABLE },
		{ "percpu8", BPF_MAP_TYPE_PERCPU_ARRAY, 8, 1024 },
		{ "percpu4", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 37 },
		{ "percpu256", BPF_MAP_TYPE_PERCPU_ARRAY, 256, 20 },
		{ "percpu4k", BPF_MAP_TYPE_PERCPU_ARRAY, 4096, 12 },
	};
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	ncpus = libbpf_num_possible_cpus();
	btf_fd = test_btf_load();
	area = mmap(NULL, (AREA_PAGES + 1) * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (ncpus <= 0 || btf_fd < 0 || area == MAP_FAILED) {
		fprintf(stderr, "set-up failed\n");
		return 1;
	}
	guard = area + AREA_PAGES * page;
	mprotect(guard, page, PROT_NONE);
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		cases(&maps[i]);
		if (maps[i].fd < 0)
			continue;
		overlapping(&maps[i]);
		if (maps[i].flags & BPF_F_MMAPABLE)
			own_buffer(&maps[i]);
	}
	frozen(&maps[0]);
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (maps[i].fd >= 0)
			map_served_by(maps[i].name, maps[i].fd);
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (maps[i].fd >= 0)
			close(maps[i].fd);
	return 0;
}
