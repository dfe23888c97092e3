/*
 * test_audit.c - the audit line's outcome word: "deleted", or the name of
 * the very errno the caller got, never a catch-all (backend/hb_audit.c).
 */
#include <errno.h>

#include "hb.h"
#include "test.h"

static const struct {
	int err;
	const char *word;
} outcomes[] = {
    {0, "deleted"},
    {-ENOENT, "ENOENT"},
    {-EACCES, "EACCES"},
    {-ESTALE, "ESTALE"},
    {-EBUSY, "EBUSY"},
    {-EIO, "EIO"},
    /* errmap's answer to a host that does not resolve: once "EIO" */
    {-EHOSTUNREACH, "EHOSTUNREACH"},
    {-EINTR, "EINTR"},
    {-ENOMEM, "ENOMEM"},
    {-ENAMETOOLONG, "ENAMETOOLONG"},
};

int main(void)
{
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		CHECK_STR(hb_outcome(outcomes[i].err), outcomes[i].word);
	return test_summary();
}
