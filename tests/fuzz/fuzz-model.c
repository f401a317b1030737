/* fuzz-model.c - libFuzzer target: the NLU model-file loader on corrupted images (nlu/model.c).
 *
 * A tiny valid model is trained at start-up (tiny-model.c); its image is
 * also committed as the seed tests/fuzz/corpus/model/tiny (flag byte 0
 * followed by the image).  The first input byte holds flags:
 *   bit 0  the rest is an edit script for the start-up image (pairs of a
 *          16-bit position and a byte to store there), so every input
 *          starts from a valid model; else the rest is the image itself;
 *   bit 1  recompute the payload checksum in the header after the edits,
 *          so the mutations reach the section parser behind the SHA-256
 *          check (a crafted file, not a disk error).
 * nlu_model_from_image() must refuse or accept without crashing; an
 * accepted image must keep its size, report the checksum of its payload,
 * and parse a few sentences (English, Thai, digits, an entity) with the
 * invariants of tiny_model_check_parse(); without bit 1 an edited image
 * is accepted only when the edits changed nothing.
 */
#include "common/err.h"
#include "nlu/model.h"
#include "nlu/parse.h"
#include "security/crypto.h"
#include "tiny-model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct nlu_model *base;
static struct nlu_parser parser;

static const char *const sentences[] = {
	"hello", "how much is the fee for GACP-2026-000123",
	"ขอนัดตรวจฟาร์มพรุ่งนี้ 15 มีนาคม 2569 ครับ", "hemp ขมิ้น cannabis",
	"", "!!!",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct gacp_err err;

	(void)argc;
	(void)argv;
	base = tiny_model_train();
	if (nlu_parser_init(&parser, &err) != 0) {
		fprintf(stderr, "fuzz-model: %s\n", err.msg);
		abort();
	}
	/* GACP_FUZZ_WRITE_SEED=path writes the seed file and exits. */
	if (getenv("GACP_FUZZ_WRITE_SEED") != NULL) {
		FILE *f = fopen(getenv("GACP_FUZZ_WRITE_SEED"), "wb");

		if (f == NULL || fputc(0, f) == EOF ||
		    fwrite(base->image, 1, base->image_bytes, f) !=
		    base->image_bytes || fclose(f) != 0)
			abort();
		exit(0);
	}
	return 0;
}

static void
fix_checksum(unsigned char *img, size_t len)
{
	if (len >= NLU_MODEL_HEADER_BYTES)
		crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
		    len - NLU_MODEL_HEADER_BYTES, img + 24);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nlu_model *m = NULL;
	struct gacp_err err;
	unsigned char *img, sha[CRYPTO_SHA256_LEN];
	size_t len, i;
	int edited, changed = 0;

	if (size == 0)
		return 0;
	edited = data[0] & 1;
	if (edited) {
		len = base->image_bytes;
		img = malloc(len);
		memcpy(img, base->image, len);
		for (i = 1; i + 2 < size; i += 3) {
			size_t pos = ((size_t)data[i] << 8 | data[i + 1]) *
			    (len / 65536 + 1) % len;

			img[pos] = data[i + 2];
		}
		changed = memcmp(img, base->image, len) != 0;
	} else {
		len = size - 1;
		img = malloc(len + 1);
		memcpy(img, data + 1, len);
	}
	if (data[0] & 2)
		fix_checksum(img, len);

	if (nlu_model_from_image(img, len, &m, &err) != GACP_OK) {
		/* nlu_bad_regex: a crafted entity pattern that PCRE2 refuses. */
		if (m != NULL || (strcmp(err.code, "nlu_model_corrupt") != 0 &&
		    strcmp(err.code, "nlu_model_version") != 0 &&
		    strcmp(err.code, "nlu_bad_regex") != 0)) {
			fprintf(stderr, "unexpected refusal %s: %s\n", err.code,
			    err.msg);
			abort();
		}
		goto out;
	}
	if (edited && changed && !(data[0] & 2))
		abort();   /* a changed byte slipped past the checksum */
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    len - NLU_MODEL_HEADER_BYTES, sha);
	if (m->image_bytes != len || memcmp(m->sha256, sha, sizeof(sha)) != 0 ||
	    m->n_labels < 2 || m->members == 0)
		abort();
	for (i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++)
		tiny_model_check_parse(&parser, m, sentences[i],
		    strlen(sentences[i]), 0);
out:
	nlu_model_free(m);
	free(img);
	return 0;
}
