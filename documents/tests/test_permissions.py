"""Permission-aware retrieval: a search finds only what its reader may read, decided in its SQL."""

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_user
from documents.collections import collection_get_or_create, collection_share, collection_unshare, may, role_of
from documents.models import Chunk, Collection, Document, Role, Visibility
from documents.search import Reader, SearchParams, build_search_sql, search_chunks, search_rows, search_values

DIMENSIONS = 384


def _vector(rng: np.random.Generator) -> list[float]:
    vector = rng.normal(size=DIMENSIONS)
    return list(vector / np.linalg.norm(vector))


def _fill(collection: Collection, rng: np.random.Generator, chunks: int = 2) -> None:
    document = Document.objects.create(
        collection=collection, path=f"{collection.name}.txt", title=collection.name, content_hash="0" * 64
    )
    Chunk.objects.bulk_create(
        Chunk(document=document, collection=collection, position=i, heading="", text=f"{collection.name} {i}",
              embedding=_vector(rng))
        for i in range(chunks)
    )  # fmt: skip


def _search(reader: Reader, query: list[float], top_k: int, collections=None, exact_limit=None) -> list[int]:
    # Dense only and without the document blend, so the order is the chunks' own distance.
    params = SearchParams.from_settings(
        top_k=top_k,
        candidates=top_k,
        keyword_weight=0.0,
        dense_weight=1.0,
        document_weight=0.0,
        exact_limit=exact_limit,
    )
    found = search_chunks(query_vector=query, query_text="", params=params, reader=reader, collections=collections)
    return [chunk.chunk_id for chunk in found]


def _may_read(user, collection: Collection, groups_of: dict) -> bool:
    """The rule, written again independently of the SQL and of the queryset."""
    if collection.visibility == Visibility.ORGANISATION or collection.owner_id == user.pk:
        return True
    return any(
        m.user_id == user.pk or (m.group_id is not None and m.group_id in groups_of[user.pk])
        for m in collection.memberships.all()
    )


def _exact(query: list[float], chunks) -> list[int]:
    """Readable chunk ids by exact cosine distance, nearest first (ties by id, as the SQL orders)."""
    q = np.asarray(query)
    scored = sorted(chunks, key=lambda c: (1 - float(np.asarray(c.embedding) @ q), c.pk))
    return [c.pk for c in scored]


world = st.fixed_dictionaries(
    {
        "collections": st.lists(
            st.tuples(st.sampled_from(Visibility.values), st.sampled_from([None, 0, 1, 2])), min_size=1, max_size=5
        ),
        "memberships": st.lists(
            st.tuples(
                st.integers(0, 4), st.sampled_from(["user", "group"]), st.integers(0, 2), st.sampled_from(Role.values)
            ),
            max_size=8,
        ),
        "in_groups": st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1)), max_size=4),
        "seed": st.integers(0, 2**32 - 1),
        # Both ways of finding the nearest chunks: all readable compared (exact) or the index walk.
        "exact_limit": st.sampled_from([0, 1_000_000]),
    }
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=world)
def test_a_search_returns_exactly_the_readable_chunks_nearest_first(world):
    """Random users, groups, memberships and visibilities: each user's search returns precisely what an
    exact search over the chunks they may read returns, and nothing they may not read."""
    with transaction.atomic():
        rng = np.random.default_rng(world["seed"])
        users = [make_user(f"user{n}") for n in range(3)]
        groups = [Group.objects.create(name=f"group{n}") for n in range(2)]
        for user_index, group_index in world["in_groups"]:
            users[user_index].groups.add(groups[group_index])
        collections = []
        for n, (visibility, owner) in enumerate(world["collections"]):
            collection = Collection.objects.create(
                name=f"c{n}", title=f"C{n}", visibility=visibility, owner=users[owner] if owner is not None else None
            )
            _fill(collection, rng)
            collections.append(collection)
        for collection_index, kind, who, role in world["memberships"]:
            if collection_index < len(collections):
                member = {"user": users[who]} if kind == "user" else {"group": groups[who % 2]}
                collection_share(collection=collections[collection_index], role=role, **member)

        groups_of = {user.pk: set(user.groups.values_list("pk", flat=True)) for user in users}
        everything = list(Chunk.objects.all())
        query = _vector(rng)
        for user in users:
            readable = [c for c in collections if _may_read(user, c, groups_of)]
            expected = _exact(
                query, [chunk for chunk in everything if chunk.collection_id in {c.name for c in readable}]
            )
            found = _search(Reader.for_user(user), query, top_k=len(everything), exact_limit=world["exact_limit"])
            assert found == expected
            assert set(Collection.objects.readable_by(user)) == set(readable)
        found = _search(Reader.system_override(), query, top_k=len(everything), exact_limit=world["exact_limit"])
        assert found == _exact(query, everything)
        transaction.set_rollback(True)


@pytest.fixture
def shelves(db):
    """A private collection of Carol's with one chunk, and an organisation-wide one with one chunk."""
    rng = np.random.default_rng(7)
    carol = make_user("carol")
    private = Collection.objects.create(name="finance", title="Finance", owner=carol)
    public = Collection.objects.create(name="handbook", title="Handbook", visibility=Visibility.ORGANISATION)
    _fill(private, rng, chunks=1)
    _fill(public, rng, chunks=1)
    return private, public, _vector(rng)


def _collections_found(user, query) -> set[str]:
    params = SearchParams.from_settings(top_k=10, keyword_weight=0.0)
    found = search_chunks(query_vector=query, query_text="", params=params, reader=Reader.for_user(user))
    return {chunk.collection for chunk in found}


def test_membership_by_group_is_granted_and_revoked_on_the_next_search(shelves):
    private, _, query = shelves
    dave = make_user("dave")
    finance = Group.objects.create(name="finance")
    assert _collections_found(dave, query) == {"handbook"}

    collection_share(collection=private, group=finance, role=Role.READER)
    dave.groups.add(finance)
    assert _collections_found(dave, query) == {"handbook", "finance"}

    dave.groups.remove(finance)
    assert _collections_found(dave, query) == {"handbook"}


def test_unsharing_a_user_stops_their_next_search(shelves):
    private, _, query = shelves
    erin = make_user("erin")
    collection_share(collection=private, user=erin, role=Role.EDITOR)
    assert "finance" in _collections_found(erin, query)
    collection_unshare(collection=private, user=erin)
    assert _collections_found(erin, query) == {"handbook"}


def test_choosing_collections_narrows_but_never_widens_the_search(shelves):
    _, _, query = shelves
    frank = make_user("frank")
    params = SearchParams.from_settings(top_k=10, keyword_weight=0.0)
    chosen = search_chunks(
        query_vector=query, query_text="", params=params, reader=Reader.for_user(frank),
        collections=["finance", "handbook"],
    )  # fmt: skip
    assert {chunk.collection for chunk in chosen} == {"handbook"}  # finance is not frank's to choose


def test_roles_rank_reader_editor_manager(shelves):
    private, public, _ = shelves
    grace = make_user("grace")
    assert role_of(grace, public) == Role.READER and role_of(grace, private) is None
    collection_share(collection=private, user=grace, role=Role.EDITOR)
    assert may(grace, private, Role.READER) and may(grace, private, Role.EDITOR)
    assert not may(grace, private, Role.MANAGER)
    assert role_of(private.owner, private) == Role.MANAGER


def test_a_new_collection_needs_a_name_fit_for_an_address(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        collection_get_or_create(name="My Documents")


def _branches_run(reader: Reader, query: list[float], exact_limit: int) -> list[bool]:
    """Whether each way of finding the nearest chunks ran: [exact, index walk], from EXPLAIN ANALYZE."""
    params = SearchParams.from_settings(keyword_weight=0.0, exact_limit=exact_limit)
    values = search_values(params, query_vector=query, query_text="", reader=reader, collections=None)
    plan = search_rows("EXPLAIN (ANALYZE, FORMAT JSON) " + build_search_sql(params), values)[0][0][0]["Plan"]

    def find(node, test):
        if test(node):
            yield node
        for child in node.get("Plans", []):
            yield from find(child, test)

    # Each way sits under a one-time filter; the scans beneath it ran only if the filter passed.
    (nearest,) = find(plan, lambda node: node["Node Type"] == "Append")
    gates = [next(find(branch, lambda node: "One-Time Filter" in node)) for branch in nearest["Plans"]]
    return [gate["Plans"][0]["Actual Loops"] > 0 for gate in gates]


@pytest.fixture
def archive(shelves):
    """Carol's private archive of 30 chunks: now the handbook is 1 chunk of 32, Carol reads all 32."""
    private, _, query = shelves
    _fill(Collection.objects.create(name="archive", title="Archive", owner=private.owner), np.random.default_rng(8), 30)
    return Reader.for_user(private.owner), query


def test_a_reader_of_a_small_share_is_searched_exactly_up_to_the_limit(archive):
    """Gina reads the handbook alone: 1 chunk, too few of 32 for one pass of the index walk. Up to the
    limit it is compared exactly; over it, the index is walked. Only one of the two ways runs."""
    _, query = archive
    gina = Reader.for_user(make_user("gina"))
    assert _branches_run(gina, query, exact_limit=1) == [True, False]
    assert _branches_run(gina, query, exact_limit=0) == [False, True]
    assert _search(gina, query, top_k=5, exact_limit=1) == _search(gina, query, top_k=5, exact_limit=0)


def test_a_reader_of_most_of_the_table_walks_the_index_however_few_its_chunks(archive):
    carol, query = archive
    assert _branches_run(carol, query, exact_limit=1_000_000) == [False, True]
