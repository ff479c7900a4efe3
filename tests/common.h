/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the suite's probes (amtest, pcputest) share: the failure counter and CHECK(), the
 * module's reference count, errno names.
 */
#ifndef AMTEST_COMMON_H
#define AMTEST_COMMON_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>
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

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
			failures++;                                        \
		}                                                          \
	} while (0)

static inline const char *res(int ret)
{
	static char buf[64];

	if (ret >= 0)
		return "ok";
	if (strerrorname_np(-ret))
		snprintf(buf, sizeof(buf), "%s", strerrorname_np(-ret));
	else
		snprintf(buf, sizeof(buf), "errno %d", -ret);
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
