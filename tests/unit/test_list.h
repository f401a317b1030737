/* test_list.h - every unit-test suite; one line per tests/unit/test_*.c. */
TEST_REGISTER(test_arena_register)
TEST_REGISTER(test_buf_register)
TEST_REGISTER(test_utf8_register)
TEST_REGISTER(test_config_register)
TEST_REGISTER(test_request_register)
TEST_REGISTER(test_router_register)
TEST_REGISTER(test_metrics_register)
TEST_REGISTER(test_server_register)
