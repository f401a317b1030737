/* test_mx_webhook.c - unit tests of Messenger webhook payload reading (messenger/webhook.c). */
#include "tests.h"
#include "common/arena.h"
#include "common/json.h"
#include "messenger/webhook.h"

#include <string.h>

/* Found by fuzz-webhook: a postback with "mid": "" kept the empty mid, so
 * every such tap shared one deduplication key.  It now gets the same
 * synthesised mid as a postback without one; an oversized mid is
 * refused. */
static void
test_postback_mid(void)
{
	static const char body[] = "{\"object\":\"page\",\"entry\":[{\"id\":\"1\","
	    "\"messaging\":[{\"sender\":{\"id\":\"2\"},\"timestamp\":3,"
	    "\"postback\":{\"payload\":\"/x\",\"mid\":\"\"}},"
	    "{\"sender\":{\"id\":\"2\"},\"timestamp\":4,"
	    "\"postback\":{\"payload\":\"/y\"}}]}]}";
	struct json_object *root = NULL;
	struct mx_batch batch;
	struct gacp_err err;
	struct arena a;
	char big[700];

	arena_init(&a, 4096);
	CU_ASSERT_EQUAL_FATAL(json_parse_arena(&a, body, strlen(body), &root,
	    &err), GACP_OK);
	memset(&batch, 0, sizeof(batch));
	CU_ASSERT_EQUAL_FATAL(mx_webhook_events(root, &a, &batch, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL_FATAL(batch.nevents, 2);
	CU_ASSERT_STRING_EQUAL(batch.events[0].mid, "pb:2:3");
	CU_ASSERT_STRING_EQUAL(batch.events[1].mid, "pb:2:4");

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	root = json_tokener_parse(body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	json_arena_own(&a, root);
	json_object_object_add(json_object_object_get(json_object_array_get_idx(
	    json_object_object_get(json_object_array_get_idx(
	    json_object_object_get(root, "entry"), 0), "messaging"), 0),
	    "postback"), "mid", json_object_new_string(big));
	CU_ASSERT_EQUAL(mx_webhook_events(root, &a, &batch, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_webhook");
	arena_cleanup(&a);
}

static const struct test_case cases[] = {
	{ "postback mid empty or oversized", test_postback_mid },
	{ NULL, NULL }
};

void
test_mx_webhook_register(void)
{
	tests_add_suite("mx_webhook", cases);
}
