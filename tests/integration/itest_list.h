/* itest_list.h - every integration suite; one line per tests/integration/test_*.c. */
TEST_REGISTER(itest_foundation_register)
TEST_REGISTER(itest_messenger_register)
TEST_REGISTER(itest_auth_register)
TEST_REGISTER(itest_tenancy_register)
TEST_REGISTER(itest_rls_register)
TEST_REGISTER(itest_channels_register)
TEST_REGISTER(itest_conversations_register)
TEST_REGISTER(itest_analytics_register)
