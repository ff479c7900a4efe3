// SPDX-License-Identifier: GPL-2.0
/*
 * lifetimes: what an fd array takes, it gives back. For each of the four fd array types and each
 * way an element leaves its slot (delete, replacement, the last user reference, the map's free),
 * the object the slot held is seen held while it is in the slot and released after, through what
 * a user can read: a program's or an inner map's id (BPF_*_GET_FD_BY_ID), a removed cgroup in its
 * parent's cgroup.stat (nr_dying_descendants), a perf event's kprobe in debugfs's kprobes/list.
 * One "type case: held yes, released yes" line each; the suite runs it on the C maps and on the
 * module and compares the lines.
 *
 *   lifetimes all        every case; exit 1 if an object was not held or not released
 *   lifetimes live       what a test may not leave behind, alive now, one per line: "prog ID",
 *                        "map ID", "link ID", "dying cgroup N" (N of cgroup.stat's
 *                        nr_dying_descendants), "kprobe ADDRESS SYMBOL" (the harness's per-point
 *                        check, tests/harness.sh)
 *   lifetimes left FILE  waits up to 10 s for everything "live" lists that FILE (an earlier
 *                        "live") does not to be gone; prints what is left, exit 1 if anything
 *   lifetimes memory     the memory a map holds returned at its free: for each type, maps made,
 *                        filled and closed 3000 times; the kernel's unreclaimable slab, per-CPU
 *                        and vmalloc totals (/proc/meminfo) must come back to within 256 KiB of
 *                        where they were (a leak of 100 bytes a map is 300 KB); "TYPE: returned"
 *                        each, or what grew; exit 1 if anything did
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/bpf.h>

#include "common.h"

#define CG_PARENT "/sys/fs/cgroup/rust_arraymap_lifetimes"
#define KPROBES_LIST "/sys/kernel/debug/kprobes/list"
/* A kernel function no test probes otherwise, and always built with BPF. */
#define KPROBE_FUNC "bpf_fentry_test1"

/* How an object is seen alive: @alive(@id) says 1 or 0. */
struct object {
	const char *what;
	int (*alive)(__u32 id);
	__u32 id;
};

static int prog_alive(__u32 id)
{
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int map_alive(__u32 id)
{
	int fd = bpf_map_get_fd_by_id(id);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* Removed cgroups under the cgroup @dir that something still holds, or -1. */
static int dying_cgroups(const char *dir)
{
	char key[64], path[256];
	long long n;
	int dying = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.stat", dir);
	f = fopen(path, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &n) == 2)
		if (!strcmp(key, "nr_dying_descendants"))
			dying = n;
	fclose(f);
	return dying;
}

static int cgroup_alive(__u32 unused)
{
	return dying_cgroups(CG_PARENT) > 0;
}

/* kprobes of KPROBE_FUNC registered: only this probe's perf events make them. */
static int kprobe_alive(__u32 unused)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(KPROBES_LIST, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, " " KPROBE_FUNC "+") != NULL;
	fclose(f);
	return n > 0;
}

/* Waits up to 5 s for @o to be @alive (releases are deferred: RCU, work items): 1 if it was. */
static int wait_for(const struct object *o, int alive)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (o->alive(o->id) == alive)
			return 1;
		usleep(25000);
	}
	return 0;
}

/*
 * Prints "@name: held yes, released yes": @o alive (still, after a while for what a missing
 * reference would have released), and gone after @release(@map).
 */
static void expect(const char *name, const struct object *o, void (*release)(int *), int *map)
{
	int held, released;

	usleep(300000);
	held = o->alive(o->id) == 1;

	release(map);
	released = wait_for(o, 0);
	printf("%s: held %s, released %s\n", name, held ? "yes" : "no", released ? "yes" : "no");
	CHECK(held, "%s: the %s was not held", name, o->what);
	CHECK(released, "%s: the %s was not released", name, o->what);
}

/* The ways out of a slot: each takes the map's fd (its slot 0 filled) and may close it. */
static void by_delete(int *map)
{
	__u32 key = 0;

	CHECK(bpf_map_delete_elem(*map, &key) == 0, "delete: %m");
}

static int replacement = -1;

static void by_update(int *map)
{
	__u32 key = 0;

	CHECK(bpf_map_update_elem(*map, &key, &replacement, BPF_ANY) == 0, "update: %m");
}

static void by_close(int *map)
{
	close(*map);
	*map = -1;
}

static int update_fd(int map, int fd)
{
	__u32 key = 0;

	return bpf_map_update_elem(map, &key, &fd, BPF_ANY) ? -errno : 0;
}

/*
 * A slot-0 case: a map of @type (@flags), @fd in slot 0 for @o, then closed, then @stored()
 * (if any), and @o released by @release.
 */
static void slot_case(const char *name, enum bpf_map_type type, __u32 flags, int inner, int fd,
		      const struct object *o, void (*stored)(void), void (*release)(int *))
{
	int map = create_map(type, 4, 4, flags, inner, 0, 0), ret;

	CHECK(map >= 0, "%s: create: %s", name, res(map));
	if (map < 0)
		return;
	map_served_by(name, map);
	ret = update_fd(map, fd);
	CHECK(ret == 0, "%s: update: %s", name, res(ret));
	close(fd);
	if (stored)
		stored();
	expect(name, o, release, &map);
	if (map >= 0)
		close(map);
}

static int prog(void)
{
	return prog_load_ret(0, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
}

static void progs(void)
{
	struct object o = { "program", prog_alive };
	void (*release[])(int *) = { by_delete, by_update, by_close };
	const char *names[] = { "prog_array delete", "prog_array replace", "prog_array close" };
	int i, fd, map, caller;

	for (i = 0; i < 3; i++) {
		fd = prog();
		o.id = prog_id(fd);
		replacement = prog();
		slot_case(names[i], BPF_MAP_TYPE_PROG_ARRAY, 0, 0, fd, &o, NULL, release[i]);
		close(replacement);
	}

	/*
	 * The last user reference gone while a program still holds the map: release_uref empties
	 * the slots (in a work item), the map itself lives on with the program that tail-calls
	 * through it.
	 */
	map = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 0, 0, 0, 0);
	caller = load_tail_caller(map);
	fd = prog();
	o.id = prog_id(fd);
	CHECK(map >= 0 && caller >= 0 && update_fd(map, fd) == 0, "prog_array uref: %m");
	map_served_by("prog_array uref", map);
	close(fd);
	expect("prog_array uref", &o, by_close, &map);
	o.id = prog_id(caller);
	o.what = "caller";
	expect("prog_array caller", &o, by_close, &caller);
}

static int inner_map(void)
{
	return create_map(BPF_MAP_TYPE_ARRAY, 8, 4, 0, 0, 0, 0);
}

static void inner_maps(void)
{
	struct object o = { "inner map", map_alive };
	void (*release[])(int *) = { by_delete, by_update, by_close };
	const char *names[] = { "array_of_maps delete", "array_of_maps replace",
				"array_of_maps close" };
	int i, fd, tmpl = inner_map();

	for (i = 0; i < 3; i++) {
		fd = inner_map();
		o.id = map_id(fd);
		replacement = inner_map();
		slot_case(names[i], BPF_MAP_TYPE_ARRAY_OF_MAPS, 0, tmpl, fd, &o, NULL, release[i]);
		close(replacement);
	}
	close(tmpl);
}

/* Removed once in its slot (a removed cgroup cannot be put in one): only the slot keeps it. */
static void remove_child(void)
{
	CHECK(rmdir(CG_PARENT "/c") == 0, "rmdir: %m");
}

static void cgroups(void)
{
	struct object o = { "removed cgroup", cgroup_alive };
	void (*release[])(int *) = { by_delete, by_update, by_close };
	const char *names[] = { "cgroup_array delete", "cgroup_array replace", "cgroup_array close" };
	int i, fd;

	/* A parent with no controllers: its children die as soon as nothing holds them. */
	if (mkdir(CG_PARENT, 0755) && errno != EEXIST) {
		CHECK(0, "mkdir " CG_PARENT ": %m");
		return;
	}
	CHECK(dying_cgroups(CG_PARENT) == 0, "dying cgroups under " CG_PARENT " at the start: %d",
	      dying_cgroups(CG_PARENT));
	for (i = 0; i < 3; i++) {
		CHECK(mkdir(CG_PARENT "/c", 0755) == 0, "mkdir: %m");
		fd = open(CG_PARENT "/c", O_RDONLY | O_DIRECTORY);
		replacement = open(CG_PARENT, O_RDONLY | O_DIRECTORY);
		CHECK(fd >= 0 && replacement >= 0, "open: %m");
		slot_case(names[i], BPF_MAP_TYPE_CGROUP_ARRAY, 0, 0, fd, &o, remove_child, release[i]);
		close(replacement);
	}
	CHECK(rmdir(CG_PARENT) == 0, "rmdir " CG_PARENT ": %m");
}

/* A disabled kprobe perf event on KPROBE_FUNC (the kprobe PMU), on CPU 0, or -errno. */
static int kprobe_event(void)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.config1 = (unsigned long)KPROBE_FUNC,
		.disabled = 1,
	};
	FILE *f = fopen("/sys/bus/event_source/devices/kprobe/type", "r");
	int type = -1, fd;

	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	if (type < 0)
		return -ENOENT;
	attr.type = type;
	fd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void unpin(int *map)
{
	CHECK(unlink("/sys/fs/bpf/rust_arraymap_lifetimes") == 0, "unlink: %m");
}

static void perf_events(void)
{
	struct object o = { "perf event", kprobe_alive };
	void (*release[])(int *) = { by_delete, by_update, by_close };
	const char *names[] = { "perf_event_array delete", "perf_event_array replace",
				"perf_event_array close" };
	int i, fd, map;

	CHECK(kprobe_alive(0) == 0, "kprobes of " KPROBE_FUNC " at the start");
	for (i = 0; i < 3; i++) {
		fd = kprobe_event();
		replacement = perf_open_clock(-1, 0);
		CHECK(fd >= 0 && replacement >= 0, "perf_event_open: %s", res(fd));
		slot_case(names[i], BPF_MAP_TYPE_PERF_EVENT_ARRAY, 0, 0, fd, &o, NULL, release[i]);
		close(replacement);
	}

	/*
	 * BPF_F_PRESERVE_ELEMS: the event outlives the file that put it there (the map pinned,
	 * its fd closed) and goes with the map.
	 */
	map = create_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, BPF_F_PRESERVE_ELEMS, 0, 0, 0);
	fd = kprobe_event();
	CHECK(map >= 0 && fd >= 0 && update_fd(map, fd) == 0, "preserve_elems: %m");
	map_served_by("perf_event_array preserve_elems", map);
	close(fd);
	CHECK(bpf_obj_pin(map, "/sys/fs/bpf/rust_arraymap_lifetimes") == 0, "pin: %m");
	close(map);
	expect("perf_event_array preserve_elems", &o, unpin, &map);
}

/* Appends @line to the list @buf (of @len bytes, NUL-terminated) if there is room. */
static void add(char *buf, size_t len, const char *line)
{
	size_t used = strlen(buf);

	if (used + strlen(line) + 1 < len)
		snprintf(buf + used, len - used, "%s\n", line);
}

/* What "lifetimes live" prints, into @buf (of @len bytes): 0, or -errno of an id walk. */
static int live_list(char *buf, size_t len)
{
	char line[512], addr[64], type[16], sym[256];
	int i, dying, ret = 0;
	__u32 id = 0;
	FILE *f;

	buf[0] = 0;
	while (!bpf_prog_get_next_id(id, &id)) {
		snprintf(line, sizeof(line), "prog %u", id);
		add(buf, len, line);
	}
	ret = errno == ENOENT ? 0 : -errno;
	for (id = 0; !bpf_map_get_next_id(id, &id);) {
		snprintf(line, sizeof(line), "map %u", id);
		add(buf, len, line);
	}
	ret = ret ?: errno == ENOENT ? 0 : -errno;
	for (id = 0; !bpf_link_get_next_id(id, &id);) {
		snprintf(line, sizeof(line), "link %u", id);
		add(buf, len, line);
	}
	ret = ret ?: errno == ENOENT ? 0 : -errno;
	dying = dying_cgroups("/sys/fs/cgroup");
	for (i = 1; i <= dying; i++) {
		snprintf(line, sizeof(line), "dying cgroup %d", i);
		add(buf, len, line);
	}
	f = fopen(KPROBES_LIST, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %15s %255s", addr, type, sym) == 3) {
			snprintf(line, sizeof(line), "kprobe %s %s", addr, sym);
			add(buf, len, line);
		}
	if (f)
		fclose(f);
	return ret;
}

static char now[1 << 20], before[1 << 20];

static int live(void)
{
	int ret = live_list(now, sizeof(now));

	fputs(now, stdout);
	return ret != 0;
}

/* Whether @line (with its newline) is a line of @list. */
static int listed(const char *list, const char *line, size_t len)
{
	const char *p;

	for (p = list; (p = strstr(p, line)); p++)
		if ((p == list || p[-1] == '\n') && p[len] == '\n')
			return 1;
	return 0;
}

/* The lines of @now that @before does not have, into @out; their number. */
static int new_lines(char *out, size_t len)
{
	char *line = now, *end;
	int n = 0;

	out[0] = 0;
	for (; (end = strchr(line, '\n')); line = end + 1) {
		*end = 0;
		if (!listed(before, line, end - line)) {
			add(out, len, line);
			n++;
		}
		*end = '\n';
	}
	return n;
}

static int left(const char *file)
{
	static char out[1 << 16];
	FILE *f = fopen(file, "r");
	size_t n;
	int i;

	if (!f) {
		perror(file);
		return 2;
	}
	n = fread(before, 1, sizeof(before) - 1, f);
	before[n] = 0;
	fclose(f);
	for (i = 0; i < 100; i++) {
		if (live_list(now, sizeof(now)) == 0 && !new_lines(out, sizeof(out)))
			return 0;
		usleep(100000);
	}
	fputs(out, stdout);
	return 1;
}

/* A /proc/meminfo line's value in kB, or -1. */
static long meminfo(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = atol(line + n + 1);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

#define MEM_CYCLES 3000
#define MEM_SLACK_KB 256
static const char *const mem_keys[] = { "SUnreclaim", "Percpu", "VmallocUsed" };
#define MEM_KEYS (sizeof(mem_keys) / sizeof(mem_keys[0]))

/* One map of the type, one element stored (@fd: what an fd array stores), closed. */
static int mem_cycle(enum bpf_map_type type, __u32 value_size, __u32 entries, __u32 flags,
		     int inner, int fd)
{
	__u64 value[8] = { 1, 2, 3 };
	int map = create_map(type, value_size, entries, flags, inner, -1, 0), ret = 0;

	if (map < 0)
		return map;
	if (fd >= 0)
		ret = update_fd(map, fd);
	else if (type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		ret = 0; /* (per-CPU values are there already; a perf event's file is not freed here) */
	else
		ret = bpf_map_update_elem(map, &(__u32){ 1 }, value, 0) ? -errno : 0;
	close(map);
	return ret;
}

static void mem_case(const char *name, enum bpf_map_type type, __u32 value_size, __u32 entries,
		     __u32 flags, int inner, int fd)
{
	long before[MEM_KEYS], now[MEM_KEYS];
	int i, k, ret = 0, tries;
	unsigned int grew = 0;

	i = create_map(type, value_size, entries, flags, inner, -1, 0);
	if (i >= 0) {
		map_served_by(name, i);
		close(i);
	}
	/* Caches and deferred frees settle first. */
	for (i = 0; i < 200 && !ret; i++)
		ret = mem_cycle(type, value_size, entries, flags, inner, fd);
	usleep(500000);
	for (k = 0; k < MEM_KEYS; k++)
		before[k] = meminfo(mem_keys[k]);
	for (i = 0; i < MEM_CYCLES && !ret; i++)
		ret = mem_cycle(type, value_size, entries, flags, inner, fd);
	if (ret) {
		printf("%s: cycle %d: %s\n", name, i, res(ret));
		failures++;
		return;
	}
	/* Maps are freed after an RCU grace period and a work item: up to 10 s. */
	for (tries = 0; tries < 100; tries++) {
		grew = 0;
		for (k = 0; k < MEM_KEYS; k++) {
			now[k] = meminfo(mem_keys[k]);
			grew |= (now[k] - before[k] > MEM_SLACK_KB) << k;
		}
		if (!grew)
			break;
		usleep(100000);
	}
	if (!grew) {
		printf("%s: returned\n", name);
		return;
	}
	printf("%s: not returned after %d maps:", name, MEM_CYCLES);
	for (k = 0; k < MEM_KEYS; k++)
		if (grew & (1u << k))
			printf(" %s +%ld kB", mem_keys[k], now[k] - before[k]);
	printf("\n");
	failures++;
}

static int memory(void)
{
	int p = prog(), in = inner_map(), cg = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);

	if (p < 0 || in < 0 || cg < 0) {
		printf("setup: prog %d, inner map %d, cgroup %d\n", p, in, cg);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	mem_case("array", BPF_MAP_TYPE_ARRAY, 64, 64, 0, 0, -1);
	mem_case("array mmapable", BPF_MAP_TYPE_ARRAY, 8, 1024, BPF_F_MMAPABLE, 0, -1);
	mem_case("percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, 8, 64, 0, 0, -1);
	mem_case("prog_array", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 0, 0, p);
	mem_case("perf_event_array", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0, -1);
	mem_case("cgroup_array", BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 0, 0, cg);
	mem_case("array_of_maps", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 0, in, in);
	close(p);
	close(in);
	close(cg);
	return failures != 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "live"))
		return live();
	if (argc == 3 && !strcmp(argv[1], "left"))
		return left(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "memory"))
		return memory();
	if (argc != 2 || strcmp(argv[1], "all")) {
		fprintf(stderr, "usage: lifetimes all|live|memory|left FILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	progs();
	inner_maps();
	cgroups();
	perf_events();
	return failures != 0;
}
