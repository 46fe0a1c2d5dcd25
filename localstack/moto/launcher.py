"""Starts moto's server with the patches devstack needs (moto[server] pinned in
localstack/requirements.txt). Each patch fixes a place where moto behaves unlike AWS in a way
that breaks a consumer written for AWS; each is exercised by tests/tests/moto_patches.rs.

- TransactWriteItems deep-copies every table it touches, all items and stream records, before
  each transaction, and a failed one puts the copies in place of the tables. The copies bring
  new stream shard objects: every shard iterator handed out before keeps reading the discarded
  shard and never sees another record, so a stream consumer stalls silently after the first
  cancelled transaction (an order that loses a race, stock that runs out). And the copying
  grows with the tables: after 200 orders it was 11% of moto's time, and the stack got slower
  the longer it ran. The patch lets moto "copy" a table as itself and keeps a journal instead:
  the items the transaction may write, as they were, and the length of each stream; a failed
  transaction puts those items back and drops the stream records it added.
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
- A DynamoDB stream shard iterator is kept forever once handed out (every GetRecords hands out
  a new one), so a polling consumer grows moto's memory without end. DynamoDB Streams expires
  an iterator 15 minutes after it is returned; the patch drops iterators then and answers a
  read of one with ExpiredIteratorException, as DynamoDB Streams does.

The rest make moto cheaper per request without changing what it answers; each removes work
the profile of a loaded stack showed (docs/performance.md):
- A Query on a table's own key lists and sorts every item of the table, then keeps those of
  the asked partition: its cost grows with the table, so an event store read per command got
  slower with every order placed. The patch hands such a query the asked partition's items
  only (the same items, sorted by the range key as before); queries of an index are unchanged.
- Step Functions parses an execution's definition (an ANTLR parser in pure Python) when the
  execution starts, and builds a new boto3 client for each Lambda task (~14% of moto's busy
  time under load, one execution per order). The patch parses a definition once and reuses the
  program when its states are only of the kinds that keep their run's state in the execution's
  environment (Task, Pass, Choice, Wait, Succeed, Fail; not Map or Parallel), and keeps one
  client per region and service (boto3 clients are thread-safe; moto gives every client the
  same dummy credentials). Both modules load with moto's Step Functions, so the patches are
  applied when they are imported, not at start (importing them costs a second).
- moto remembers every model object it ever creates (`BaseModel.instances_tracked`, read only by
  its web dashboard and by S3's reset), so nothing it creates is ever freed: every shard
  iterator, stream record and transaction copy. Its memory grew by ~5 MB per order placed
  (1.3 GB after 200). The patch tracks S3's objects only (S3's reset disposes of their buffers);
  the dashboard's data view then lists no other models.
- werkzeug logs every request, formatting and writing a line under a lock on each one (~11% of
  moto's time under load), and devstack discards moto's output. The patch drops the access log
  line; errors are still logged.
- moto's dispatcher infers the service of every request under one global lock, listing moto's
  package folders and matching host patterns each time (~8%). For a signed request the answer
  depends only on the credential scope's service and region and the X-Amz-Target prefix (for the
  services devstack uses: those whose inferred host reads no path or body), so the patch
  remembers the application per such key and asks moto only for a key it has not seen.
- EventBridge builds a JSONPath parser (yacc tables) for each of the eight paths of its default
  input template, per target, per event (~6%). The patch reuses parsed expressions: moto only
  reads through them.

Usage: python launcher.py [moto_server arguments...]
"""

import collections
import copy
import functools
import importlib.abc
import importlib.machinery
import inspect
import json
import os
import sys
import threading
import time

import jsonpath_ng.ext
from moto.cognitoidp.exceptions import UserNotConfirmedException
from moto.cognitoidp.models import CognitoIdpBackend, UserStatus
from moto.core.exceptions import JsonRESTError
from moto.core.common_models import BaseModel
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend
from moto.events import models as events_models
from moto.moto_server.werkzeug_app import (
    SIGNING_ALIASES,
    DomainDispatcherApplication,
    MotoRequestHandler,
)


_in_transaction = threading.local()


class _TableCopies:
    """Stands in for the `copy` module in moto's DynamoDB backend: inside a transaction a
    table's "copy" is the table itself (the journal undoes a failed transaction instead)."""

    @staticmethod
    def deepcopy(value, memo=None):
        if getattr(_in_transaction, "active", False) and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


dynamodb_models.copy = _TableCopies()


def _journal(backend, transact_items):
    """The prior state of each item the transaction may write, and each stream's length."""
    items = {}
    streams = {}
    for entry in transact_items:
        kind, operation = next(iter(entry.items()), (None, {}))
        table = backend.tables.get(operation.get("TableName"))
        attributes = operation.get("Item" if kind == "Put" else "Key")
        if kind not in ("Put", "Update", "Delete") or table is None or not attributes:
            continue
        hash_value = attributes.get(table.hash_key_attr)
        range_value = attributes.get(table.range_key_attr) if table.range_key_attr else None
        if hash_value is None or (table.range_key_attr and range_value is None):
            continue
        key = (table.name, DynamoType(hash_value), range_value and DynamoType(range_value))
        if key in items:
            continue
        try:
            current = table.get_item(key[1], key[2])
        except Exception:  # noqa: BLE001 - moto refuses the same key in the transaction
            continue
        items[key] = (table, copy.deepcopy(current) if current is not None else None)
        if table.stream_shard is not None:
            streams.setdefault(table.name, (table.stream_shard, len(table.stream_shard.items)))
    return items, streams


def _roll_back(items, streams):
    for (_, hash_value, range_value), (table, before) in items.items():
        if range_value is None:
            if before is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = before
        elif before is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = before
    for shard, length in streams.values():
        del shard.items[length:]


def _journaled_transactions(transact_write_items):
    def patched(self, transact_items):
        items, streams = _journal(self, transact_items)
        _in_transaction.active = True
        try:
            return transact_write_items(self, transact_items)
        except BaseException:
            _roll_back(items, streams)
            raise
        finally:
            _in_transaction.active = False

    return patched


DynamoDBBackend.transact_write_items = _journaled_transactions(
    DynamoDBBackend.transact_write_items
)


_partition_query = threading.local()


def _partition_only(all_items):
    def patched(self):
        asked = getattr(_partition_query, "asked", None)
        if asked is None or asked[0] is not self:
            return all_items(self)
        partition = self.items.get(asked[1])
        if partition is None:
            return []
        return list(partition.values()) if self.range_key_attr else [partition]

    return patched


def _scoped_to_the_partition(query):
    signature = inspect.signature(query)

    def patched(self, *args, **kwargs):
        asked = signature.bind(self, *args, **kwargs).arguments
        if asked.get("index_name") or asked.get("hash_key") is None:
            return query(self, *args, **kwargs)
        _partition_query.asked = (self, asked["hash_key"])
        try:
            return query(self, *args, **kwargs)
        finally:
            _partition_query.asked = None

    return patched


Table.all_items = _partition_only(Table.all_items)
Table.query = _scoped_to_the_partition(Table.query)


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


# DynamoDB Streams' lifetime of a shard iterator; a test shortens it to see one expire.
ITERATOR_LIFETIME_SECONDS = float(os.environ.get("SHOP_MOTO_ITERATOR_LIFETIME_SECONDS", 15 * 60))


class ExpiredIteratorException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "ExpiredIteratorException",
            "The shard iterator has expired and can no longer be used.",
        )


class _ExpiringIterators(dict):
    """The backend's iterator map: forgets an iterator ITERATOR_LIFETIME_SECONDS after it was
    handed out, and refuses it from then on. Iterators are handed out in time order, so the
    expired ones are the oldest."""

    def __init__(self) -> None:
        super().__init__()
        self._handed_out = collections.deque()
        self._lock = threading.Lock()

    def __setitem__(self, arn, iterator):
        now = time.monotonic()
        with self._lock:
            while self._handed_out and now - self._handed_out[0][0] >= ITERATOR_LIFETIME_SECONDS:
                super().pop(self._handed_out.popleft()[1], None)
            self._handed_out.append((now, arn))
            super().__setitem__(arn, (now, iterator))

    def __getitem__(self, arn):
        with self._lock:
            handed_out, iterator = super().get(arn, (None, None))
        if iterator is None or time.monotonic() - handed_out >= ITERATOR_LIFETIME_SECONDS:
            raise ExpiredIteratorException()
        return iterator


def _expiring_iterators(init):
    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.shard_iterators = _ExpiringIterators()

    return patched


DynamoDBStreamsBackend.__init__ = _expiring_iterators(DynamoDBStreamsBackend.__init__)


# Kinds of state whose components keep nothing of a run (retry counts and the like live in the
# execution's environment), so one parsed program can serve every execution.
_STATES_WITHOUT_RUN_STATE = {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail"}


def _reusable(definition):
    try:
        states = json.loads(definition).get("States", {})
    except (ValueError, AttributeError):
        return False
    return all(
        isinstance(state, dict) and state.get("Type") in _STATES_WITHOUT_RUN_STATE
        for state in states.values()
    )


def _parse_once(asl_parser):
    parse = asl_parser.AmazonStateLanguageParser.parse
    parsed = {}

    def patched(definition):
        found = parsed.get(definition)
        if found is None:
            found = parse(definition)
            if _reusable(definition) and len(parsed) < 256:
                parsed[definition] = found
        return found

    asl_parser.AmazonStateLanguageParser.parse = staticmethod(patched)


def _one_client_each(lambda_eval_utils):
    build = lambda_eval_utils.boto_client_for
    clients = {}
    lock = threading.Lock()

    def patched(region, service, state_credentials=None):
        with lock:
            client = clients.get((region, service))
            if client is None:
                client = build(region=region, service=service, state_credentials=state_credentials)
                clients[(region, service)] = client
        return client

    lambda_eval_utils.boto_client_for = patched


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Applies a patch to a module right after it is first imported."""

    def __init__(self, patches):
        self.patches = patches

    def find_spec(self, name, path, target=None):
        if name not in self.patches:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def load_and_patch(module):
            load(module)
            self.patches.pop(name)(module)

        spec.loader.exec_module = load_and_patch
        return spec


_SFN = "moto.stepfunctions.parser.asl"
sys.meta_path.insert(
    0,
    _PatchOnImport(
        {
            f"{_SFN}.parse.asl_parser": _parse_once,
            f"{_SFN}.component.state.exec.state_task.lambda_eval_utils": _one_client_each,
        }
    ),
)


def _tracked_for_s3_only(cls, *args, **kwargs):
    instance = super(BaseModel, cls).__new__(cls)
    if cls.__module__.startswith("moto.s3."):
        cls.instances_tracked.append(instance)
    return instance


BaseModel.__new__ = staticmethod(_tracked_for_s3_only)


def _no_access_log(self, code="-", size="-"):
    pass


MotoRequestHandler.log_request = _no_access_log


# Services whose inferred host also depends on the path, the Host header or the body.
_NOT_BY_SCOPE = {"execute-api", "iot", "mediastore", "sagemaker", "s3", "ses", "bedrock", "bedrock-agentcore"}


def _dispatch_key(environ):
    """What moto's service inference reads of a signed request, or None when it reads more."""
    path = environ.get("PATH_INFO", "")
    if not isinstance(path, str) or path.startswith(("/moto-api", "/favicon.ico", "/latest/")):
        return None
    auth = environ.get("HTTP_AUTHORIZATION")
    if not auth:
        return None
    try:
        _, _, region, service, _ = auth.split(",")[0].split()[1].split("/")
    except (IndexError, ValueError):
        return None
    service = service.lower()
    if service in _NOT_BY_SCOPE or SIGNING_ALIASES.get(service) in _NOT_BY_SCOPE:
        return None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if service == "dynamodb" and not target:
        return None
    return (service, region, target.split(".", 1)[0] if target else None)


def _remembered_dispatch(get_application):
    apps = {}

    def patched(self, environ):
        key = _dispatch_key(environ)
        if key is None:
            return get_application(self, environ)
        app = apps.get((id(self), key))
        if app is None:
            app = get_application(self, environ)
            apps[(id(self), key)] = app
        return app

    return patched


DomainDispatcherApplication.get_application = _remembered_dispatch(
    DomainDispatcherApplication.get_application
)

# moto.events imports parse from this module on each call, so it finds the cached one.
jsonpath_ng.ext.parse = functools.lru_cache(maxsize=1024)(jsonpath_ng.ext.parse)

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
