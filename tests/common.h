/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the suite's probes (amtest, pcputest) share: the failure counter and CHECK(), the
 * module's reference count, errno names.
 */
#ifndef AMTEST_COMMON_H
#define AMTEST_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int failures __attribute__((unused));

/* The module's reference count, or -1 when it is not loaded: each map it serves holds one. */
static inline int module_refs(void)
{
	FILE *f = fopen("/sys/module/rust_arraymap/refcnt", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* A raw bpf() call, without libbpf in between: @attr as given, the result or -errno. */
static inline int sys_bpf(int cmd, union bpf_attr *attr)
{
	int ret = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return ret < 0 ? -errno : ret;
}

/* BPF_PROG_LOAD of @cnt raw instructions under the GPL. */
static inline int prog_load_insns(enum bpf_prog_type type, const struct bpf_insn *insns,
				  __u32 cnt, enum bpf_attach_type attach, __u32 btf_id)
{
	union bpf_attr a = {
		.prog_type = type,
		.insns = (unsigned long)insns,
		.insn_cnt = cnt,
		.license = (unsigned long)"GPL",
		.expected_attach_type = attach,
		.attach_btf_id = btf_id,
	};

	return sys_bpf(BPF_PROG_LOAD, &a);
}

/* A program of @type that returns @ret: r0 = ret; exit. */
static inline int prog_load_ret(int ret, enum bpf_prog_type type, enum bpf_attach_type attach,
				__u32 btf_id)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return prog_load_insns(type, insns, 2, attach, btf_id);
}

/*
 * A socket filter doing bpf_tail_call(ctx, @prog_array, 0) and returning 1 if that falls
 * through: a direct tail call, tracked by the array.
 */
static inline int load_tail_caller(int prog_array)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = prog_array },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return prog_load_insns(BPF_PROG_TYPE_SOCKET_FILTER, insns, 6, 0, 0);
}

/* A software CPU-clock perf event of @pid on @cpu (perf_event_open's meanings), or -1. */
static inline int perf_open_clock(int pid, int cpu)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
	};

	return syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
			failures++;                                        \
		}                                                          \
	} while (0)

/*
 * "ok" or the errno's name; the last four results of a thread stay valid (one printf may show
 * several).
 */
static inline const char *res(int ret)
{
	static __thread char bufs[4][64];
	static __thread int n;
	char *buf = bufs[n++ % 4];

	if (ret >= 0)
		return "ok";
	if (strerrorname_np(-ret))
		snprintf(buf, sizeof(bufs[0]), "%s", strerrorname_np(-ret));
	else
		snprintf(buf, sizeof(bufs[0]), "errno %d", -ret);
	return buf;
}

/*
 * An iter/bpf_map_elem iterator of @prog over the map @map_fd: the iterator's fd, with the
 * link already dropped (the iterator holds its own references), or -1.
 */
static inline int open_map_iter(struct bpf_program *prog, int map_fd)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo = {};
	struct bpf_link *link;
	int iter_fd;

	linfo.map.map_fd = map_fd;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	link = bpf_program__attach_iter(prog, &opts);
	if (!link) {
		perror("attach_iter");
		return -1;
	}
	iter_fd = bpf_iter_create(bpf_link__fd(link));
	if (iter_fd < 0)
		perror("bpf_iter_create");
	bpf_link__destroy(link);
	return iter_fd;
}

/* Prints what the iterator @iter_fd produces (up to 4 KiB) and closes it; 0 on success. */
static inline int print_iter(int iter_fd)
{
	char buf[4096];
	int n, len = 0;

	while ((n = read(iter_fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	printf("%s", buf);
	close(iter_fd);
	return n < 0;
}

#endif
