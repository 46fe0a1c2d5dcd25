"""tests/stage.py's offline parts: the list, discovery from parameters, passwords, counting
(`make workflow-check` runs these; `stage.py run --stage local` on devstack runs the rest)."""

import tempfile
import unittest
from pathlib import Path

import stage


class TheList(unittest.TestCase):
    def test_the_repositorys_list_names_only_tests_its_suites_have(self):
        pairs = stage.read_list()
        self.assertGreater(len(pairs), 10)
        self.assertEqual(stage.missing_tests(pairs, stage.WORKSPACE / "tests/tests"), [])

    def test_a_renamed_or_misspelt_test_is_reported(self):
        with tempfile.TemporaryDirectory() as directory:
            Path(directory, "catalog.rs").write_text(
                "#[tokio::test]\nasync fn lists_products() {}\n"
                "#[test]\nfn counts() {}\n"
                "async fn helper_not_a_test() {}\n"
            )
            pairs = [
                ("catalog", "lists_products"),
                ("catalog", "counts"),
                ("catalog", "helper_not_a_test"),
                ("catalog", "lists"),
                ("nowhere", "lists_products"),
            ]
            self.assertEqual(
                stage.missing_tests(pairs, Path(directory)),
                ["catalog helper_not_a_test", "catalog lists", "nowhere lists_products"],
            )

    def test_a_line_that_is_not_suite_and_test_or_a_repeat_is_refused(self):
        with tempfile.TemporaryDirectory() as directory:
            listing = Path(directory, "stage-tests.txt")
            listing.write_text("# comment\n\ncatalog one  # why\ncatalog\n")
            with self.assertRaisesRegex(stage.StageError, ":4: expected"):
                stage.read_list(listing)
            listing.write_text("catalog one\norders one\n")
            with self.assertRaisesRegex(stage.StageError, "listed twice"):
                stage.read_list(listing)


class Discovery(unittest.TestCase):
    PARAMETERS = {
        "/shop/dev/api/url": "https://abc.execute-api.eu-west-1.amazonaws.com/",
        "/shop/dev/auth/user-pool-id": "eu-west-1_Pool",
        "/shop/dev/auth/user-pool-client-id": "client",
        "/shop/dev/orders/place-order-state-machine": "arn:aws:states:eu-west-1:1:stateMachine:PlaceOrderStateMachine-x",
        "/shop/prod/api/url": "https://prod.example",
    }

    def test_the_stage_s_parameters_become_the_stack_file_s_endpoints(self):
        self.assertEqual(
            stage.discovery(self.PARAMETERS, "dev"),
            {
                "api_url": "https://abc.execute-api.eu-west-1.amazonaws.com",
                "user_pool_id": "eu-west-1_Pool",
                "user_pool_client_id": "client",
                "place_order_state_machine": "arn:aws:states:eu-west-1:1:stateMachine:PlaceOrderStateMachine-x",
            },
        )

    def test_a_stage_that_is_not_deployed_names_what_it_lacks(self):
        with self.assertRaisesRegex(stage.StageError, "/shop/prod/auth/user-pool-id") as raised:
            stage.discovery(self.PARAMETERS, "prod")
        self.assertNotIn("/shop/prod/api/url", str(raised.exception))


class Passwords(unittest.TestCase):
    def test_every_password_has_each_class_and_none_repeats(self):
        passwords = {stage.new_password() for _ in range(50)}
        self.assertEqual(len(passwords), 50)
        for password in passwords:
            self.assertEqual(len(password), 32)
            for required in ("[A-Z]", "[a-z]", "[0-9]", "[-_.!]"):
                self.assertRegex(password, required)


class Counting(unittest.TestCase):
    def test_libtest_summaries_are_read(self):
        line = "test result: ok. 6 passed; 0 failed; 0 ignored; 0 measured; 13 filtered out; finished in 1.2s"
        self.assertEqual(stage.PASSED.match(line).groups(), ("6", "0"))
        failed = "test result: FAILED. 4 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out"
        self.assertEqual(stage.PASSED.match(failed).groups(), ("4", "2"))
        self.assertIsNone(stage.PASSED.match("running 6 tests"))


if __name__ == "__main__":
    unittest.main()
