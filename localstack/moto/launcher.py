"""Starts moto's server with the patches devstack needs (moto[server] pinned in
localstack/requirements.txt). Each patch fixes a place where moto behaves unlike AWS in a way
that breaks a consumer written for AWS; each is exercised by tests/tests/moto_patches.rs.

- A failed TransactWriteItems restores the tables it touched from deep copies, and the copies
  bring new stream shard objects: every shard iterator handed out before keeps reading the
  discarded shard and never sees another record, so a stream consumer stalls silently after
  the first cancelled transaction (an order that loses a race, stock that runs out). The patch
  keeps each table's stream shard object and gives it the restored records.
- AdminInitiateAuth with a password flow signs in a user who never confirmed their sign-up,
  where Cognito answers UserNotConfirmedException (moto checks this in InitiateAuth only). A
  login service on the admin flow would hand tokens to unconfirmed accounts locally and never
  on AWS. The patch refuses them as Cognito does, after the password matched (a wrong password
  stays NotAuthorizedException).
- DynamoDB's item writes are not atomic under moto's threaded server: two conditional
  UpdateItems on one item (`ADD n :one` if `n < :limit`) can both read the old item, both pass
  their condition and both write, where DynamoDB serializes writes to an item. A counter used
  as a gate (the login lockout) then lets more attempts through than its limit. The patch runs
  every item write under one lock, as DynamoDB's per-item serialization would order them.
- EventBridge's CloudWatch Logs target stamps each log event with fractional milliseconds
  (1795851962723.9612) where CloudWatch Logs keeps whole milliseconds since the epoch (a long),
  so an SDK reading the bus's event log group (FilterLogEvents, GetLogEvents) cannot parse the
  answer. The patch stamps whole milliseconds.

Usage: python launcher.py [moto_server arguments...]
"""

import sys
import threading

from moto.cognitoidp.exceptions import UserNotConfirmedException
from moto.cognitoidp.models import CognitoIdpBackend, UserStatus
from moto.dynamodb.models import DynamoDBBackend
from moto.events import models as events_models


def _keep_stream_shards(transact_write_items):
    def patched(self, transact_items):
        shards = {
            name: table.stream_shard
            for name, table in self.tables.items()
            if getattr(table, "stream_shard", None) is not None
        }
        try:
            return transact_write_items(self, transact_items)
        finally:
            for name, shard in shards.items():
                table = self.tables.get(name)
                restored = getattr(table, "stream_shard", None)
                if table is not None and restored is not None and restored is not shard:
                    shard.items = restored.items
                    shard.table = table
                    table.stream_shard = shard

    return patched


DynamoDBBackend.transact_write_items = _keep_stream_shards(DynamoDBBackend.transact_write_items)


_ITEM_WRITES = threading.RLock()


def _serialized(write):
    def patched(self, *args, **kwargs):
        with _ITEM_WRITES:
            return write(self, *args, **kwargs)

    return patched


for _write in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
    setattr(DynamoDBBackend, _write, _serialized(getattr(DynamoDBBackend, _write)))


def _refuse_unconfirmed_users(admin_initiate_auth):
    password_flows = ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH")

    def patched(self, user_pool_id, client_id, auth_flow, auth_parameters):
        if auth_flow in password_flows:
            parameters = auth_parameters or {}
            pool = self.user_pools.get(user_pool_id)
            user = pool._get_user(parameters.get("USERNAME")) if pool else None
            if (
                user is not None
                and user.enabled
                and user.password == parameters.get("PASSWORD")
                and user.status is UserStatus.UNCONFIRMED
            ):
                raise UserNotConfirmedException("User is not confirmed.")
        return admin_initiate_auth(self, user_pool_id, client_id, auth_flow, auth_parameters)

    return patched


CognitoIdpBackend.admin_initiate_auth = _refuse_unconfirmed_users(
    CognitoIdpBackend.admin_initiate_auth
)

def _whole_milliseconds(unix_time_millis):
    def patched(dt=None):
        return int(unix_time_millis(dt))

    return patched


# moto's events module reads the clock in milliseconds only to stamp log events.
events_models.unix_time_millis = _whole_milliseconds(events_models.unix_time_millis)

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
