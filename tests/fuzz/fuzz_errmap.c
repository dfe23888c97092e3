/*
 * fuzz_errmap.c - the error-body parser (errmap_parse_body). Input: two
 * bytes giving the output buffer sizes, then the body. The outputs must
 * be NUL-terminated inside their buffers and hold no control bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errmap.h"
#include "fuzz_feed.h"

static void check_printable(const char *s, size_t len)
{
	size_t n;

	if (!len)
		return;
	n = strnlen(s, len);
	FUZZ_CHECK(n < len);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 &&
			   (unsigned char)s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t codelen, msglen;
	char *code, *msg, *body;

	if (size < 2)
		return 0;
	codelen = data[0] % 80;
	msglen = (size_t)data[1] * 2;
	/* exact sizes (at least one byte to allocate) so ASan sees overruns */
	code = malloc(codelen ? codelen : 1);
	msg = malloc(msglen ? msglen : 1);
	body = malloc(size - 2 + 1);
	FUZZ_CHECK(code && msg && body);
	memcpy(body, data + 2, size - 2);
	body[size - 2] = '\0';
	errmap_parse_body(body, size - 2, code, codelen, msg, msglen);
	check_printable(code, codelen);
	check_printable(msg, msglen);
	/* the same body without the NUL http.c adds: no read past len */
	free(body);
	body = malloc(size - 2 ? size - 2 : 1);
	FUZZ_CHECK(body != NULL);
	memcpy(body, data + 2, size - 2);
	errmap_parse_body(body, size - 2, code, codelen, msg, msglen);
	check_printable(code, codelen);
	check_printable(msg, msglen);
	free(body);
	free(code);
	free(msg);
	return 0;
}
