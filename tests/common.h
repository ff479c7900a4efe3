/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the suite's probes (amtest, pcputest) share: the failure counter and CHECK(), the
 * module's reference count, errno names.
 */
#ifndef AMTEST_COMMON_H
#define AMTEST_COMMON_H

#include <stdio.h>
#include <string.h>

static int failures;

/* The module's reference count, or -1 when it is not loaded: each map it serves holds one. */
static int module_refs(void)
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

static const char *res(int ret)
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

#endif
