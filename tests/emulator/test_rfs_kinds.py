"""The RFS registry's four kinds (private providers, modules, hooks,
templates) over plain HTTP: the rules they share, parametrised over the
kinds, and where they differ (docs/cloud-api.md, "The RFS registry:
private modules, private hooks and templates")."""

import json
import re
import uuid

import pytest

from emulator.harness import RFS_KINDS, rfs_op

PAGED = ("providers", "modules", "hooks")
MS_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
S_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NAME = {"providers": "provider_name", "modules": "module_name",
        "hooks": "hook_name", "templates": "template_name"}
ID = {"providers": "provider_id", "modules": "module_id",
      "hooks": "hook_id", "templates": "template_id"}
VERSION = {"providers": "provider_version", "modules": "module_version",
           "hooks": "hook_version", "templates": "version_id"}
V = {"providers": ("1.0.0", "1.2.3", "2.0.0"),
     "modules": ("1.0.0", "1.2.3", "2.0.0"),
     "hooks": ("1.0.0", "1.2.3", "2.0.0"),
     "templates": ("V1", "V2", "V3")}
# the version a kind's delete of a version refuses, given V[kind] added
PROTECTED = {"hooks": "1.0.0"}


def assert_rf(resp, status, code):
    assert resp.status == status, resp
    body = resp.json()
    assert body["error_code"] == code and len(code) == 11
    assert body["error_msg"] and body["details"] == []


def call(emu, method, kind, name=None, version=None, suffix="", query=None,
         **kw):
    path = emu.rfs_path(kind, name, version) + suffix
    return emu.sign_and_request(method, path, query, **kw)


def seeded(kind, n=1):
    return "emu-%s-%05d" % (kind[:-1], n)


def entries(resp, kind):
    return resp.json()[kind]


def walk(emu, kind, query):
    """Every page of kind's names; (names, requests)."""
    got, marker, n = [], None, 0
    while True:
        q = dict(query, **({"marker": marker} if marker else {}))
        r = call(emu, "GET", kind, query=q)
        n += 1
        assert r.status == 200, r
        got += [e[NAME[kind]] for e in entries(r, kind)]
        marker = r.json()["page_info"].get("next_marker")
        if not marker:
            return got, n


# ------------------------------------------------------- shared rules

OPS = [("GET", None, None, ""), ("GET", 1, None, "/metadata"),
       ("GET", 1, None, "/versions"), ("GET", 1, 0, "/metadata"),
       ("DELETE", 1, 0, ""), ("DELETE", 1, None, "")]


@pytest.mark.parametrize("kind", RFS_KINDS)
@pytest.mark.parametrize("method,name,version,suffix", OPS)
def test_client_request_id_required_on_every_kind(emu, kind, method, name,
                                                  version, suffix):
    emu.seed(versions=2, **{kind: 1})
    r = call(emu, method, kind, name and seeded(kind),
             None if version is None else V[kind][version], suffix,
             client_request_id=False)
    assert_rf(r, 400, "RF.10011001")
    assert len(emu.state()[kind][0]["versions"]) == 2


@pytest.mark.parametrize("kind", RFS_KINDS)
def test_listing_fields_times_and_counters(emu, kind):
    emu.seed(versions=2, **{kind: 3})
    r = call(emu, "GET", kind)
    assert r.status == 200
    got = entries(r, kind)
    assert sorted(e[NAME[kind]] for e in got) == \
        [seeded(kind, i) for i in (1, 2, 3)]
    assert all(len(e[ID[kind]]) == 36 for e in got)
    fmt = S_TIME if kind == "templates" else MS_TIME
    assert all(fmt.match(e["create_time"]) and fmt.match(e["update_time"])
               for e in got)
    assert ("page_info" in r.json()) == (kind in PAGED)
    v = call(emu, "GET", kind, seeded(kind), suffix="/versions")
    first = ["V1", "V2"] if kind == "templates" else ["1.0.0", "1.0.1"]
    assert [x[VERSION[kind]] for x in v.json()["versions"]] == \
        (first if kind == "templates" else first[::-1])
    assert all(fmt.match(x["create_time"]) for x in v.json()["versions"])
    assert emu.count(rfs_op(kind, "list")) == 1
    assert emu.count(rfs_op(kind, "list_versions")) == 1
    assert emu.stats()["total"] == 2


@pytest.mark.parametrize("kind", PAGED)
def test_paged_kinds_walk_each_name_once(emu, kind):
    emu.seed(**{kind: 25})
    got, n = walk(emu, kind, {"limit": 10})
    assert n == 3 and sorted(got) == [seeded(kind, i)
                                      for i in range(1, 26)]
    assert got == [e[NAME[kind]] for e in emu.state()[kind]]  # newest first
    assert emu.count(rfs_op(kind, "list")) == 3
    assert_rf(call(emu, "GET", kind, query={"limit": 9}), 400,
              "RF.10011001")


@pytest.mark.parametrize("kind", PAGED)
def test_a_marker_of_one_kind_is_refused_by_another(emu, kind):
    other = "modules" if kind != "modules" else "hooks"
    emu.seed(versions=0, **{kind: 12, other: 12})
    marker = call(emu, "GET", kind, query={"limit": 10}).json()[
        "page_info"]["next_marker"]
    assert_rf(call(emu, "GET", other, query={"limit": 10, "marker": marker}),
              400, "RF.10011003")


def test_templates_come_whole_oldest_first_without_page_info(emu):
    emu.seed(templates=25)
    for q in ({}, {"limit": 10}, {"limit": 10, "marker": "anything"}):
        r = call(emu, "GET", "templates", query=q)
        assert r.status == 200 and "page_info" not in r.json()
        assert [e["template_name"] for e in entries(r, "templates")] == \
            [seeded("templates", i) for i in range(1, 26)]
    assert emu.count("rfs.list_templates") == 3


@pytest.mark.parametrize("kind", RFS_KINDS)
def test_strong_match_id_400_everywhere(emu, kind):
    rec = emu.add_rfs(kind, "name1", V[kind])
    wrong = {ID[kind]: str(uuid.uuid4())}
    for method, version, suffix in [("GET", None, "/metadata"),
                                    ("GET", None, "/versions"),
                                    ("GET", V[kind][1], "/metadata"),
                                    ("DELETE", V[kind][1], ""),
                                    ("DELETE", None, "")]:
        r = call(emu, method, kind, "name1", version, suffix, query=wrong)
        assert_rf(r, 400, "RF.10011002")
    assert len(emu.state()[kind][0]["versions"]) == 3
    right = {ID[kind]: rec[ID[kind]]}
    assert call(emu, "DELETE", kind, "name1", V[kind][1],
                query=right).status == 204
    assert call(emu, "DELETE", kind, "name1", query=right).status == 204
    assert emu.state()[kind] == []
    deletes = emu.stats()["deletes"]
    assert [(d["op"], d["resource"], d[ID[kind]], d["status"])
            for d in deletes] == [
        (rfs_op(kind, "delete_version"), "name1/" + V[kind][1],
         wrong[ID[kind]], 400),
        (rfs_op(kind, "delete"), "name1", wrong[ID[kind]], 400),
        (rfs_op(kind, "delete_version"), "name1/" + V[kind][1],
         rec[ID[kind]], 204),
        (rfs_op(kind, "delete"), "name1", rec[ID[kind]], 204)]
    assert all(set(d) == {"op", "resource", ID[kind], "status"}
               for d in deletes)


@pytest.mark.parametrize("kind", RFS_KINDS)
@pytest.mark.parametrize("bad", ["x" * 35, "x" * 37])
def test_id_of_the_wrong_length_is_400(emu, kind, bad):
    emu.add_rfs(kind, "name1", V[kind][:1])
    assert_rf(call(emu, "GET", kind, "name1", suffix="/versions",
                   query={ID[kind]: bad}), 400, "RF.10011001")


@pytest.mark.parametrize("kind", RFS_KINDS)
def test_recreated_name_gets_a_new_id_and_the_old_is_refused(emu, kind):
    old = emu.add_rfs(kind, "again", V[kind][:1])[ID[kind]]
    emu.delete_rfs(kind, "again")
    new = emu.add_rfs(kind, "again", V[kind][:1])[ID[kind]]
    assert new != old
    assert_rf(call(emu, "DELETE", kind, "again", query={ID[kind]: old}),
              400, "RF.10011002")
    assert call(emu, "DELETE", kind, "again",
                query={ID[kind]: new}).status == 204


@pytest.mark.parametrize("kind", RFS_KINDS)
def test_deleting_a_name_deletes_its_versions(emu, kind):
    emu.add_rfs(kind, "full", V[kind])
    emu.add_rfs(kind, "other", V[kind][:1])
    assert call(emu, "DELETE", kind, "full").status == 204
    assert [e[NAME[kind]] for e in emu.state()[kind]] == ["other"]
    assert_rf(call(emu, "GET", kind, "full", suffix="/versions"), 404,
              "RF.10014001")
    assert emu.count(rfs_op(kind, "delete")) == 1


@pytest.mark.parametrize("kind", RFS_KINDS)
def test_unknown_name_or_version_is_404(emu, kind):
    emu.add_rfs(kind, "there", V[kind][:1])
    for method, version, suffix in [("GET", None, "/metadata"),
                                    ("GET", None, "/versions"),
                                    ("DELETE", None, ""),
                                    ("DELETE", V[kind][0], "")]:
        assert_rf(call(emu, method, kind, "nothere", version, suffix), 404,
                  "RF.10014001")
    for method, suffix in [("GET", "/metadata"), ("DELETE", "")]:
        assert_rf(call(emu, method, kind, "there", V[kind][2], suffix), 404,
                  "RF.10014002")


@pytest.mark.parametrize("kind,name,version", [
    ("providers", "Upper", "1.0"), ("modules", "-lead", "V1"),
    ("hooks", "9lead", "01.0.0"), ("templates", "a" * 129, "1.0.0"),
    ("templates", "has space", "V0")])
def test_names_and_versions_out_of_the_rules_are_400(emu, kind, name,
                                                     version):
    emu.add_rfs(kind, "ok1", V[kind][:1])
    assert_rf(call(emu, "GET", kind, name, suffix="/versions"), 400,
              "RF.10011001")
    assert_rf(call(emu, "DELETE", kind, "ok1", version), 400, "RF.10011001")


@pytest.mark.parametrize("kind", ["modules", "hooks", "templates"])
def test_chinese_and_mixed_case_names_are_valid(emu, kind):
    for name in ("Mixed_Case-1", "\u4e2d\u6587\u540d"):
        r = call(emu, "GET", kind, name, suffix="/versions")
        assert_rf(r, 404, "RF.10014001")


# ------------------------------------------------------- where kinds differ

@pytest.mark.parametrize("kind", RFS_KINDS)
def test_delete_of_versions_down_to_the_last(emu, kind):
    """Providers and modules may lose every version; a hook keeps its
    default and a template its last (403 RF.10013002) until the name
    goes."""
    emu.add_rfs(kind, "vers", V[kind])
    left = list(V[kind])
    for version in reversed(V[kind]):
        r = call(emu, "DELETE", kind, "vers", version)
        refused = version == PROTECTED.get(kind) or \
            (kind == "templates" and len(left) == 1)
        if refused:
            assert_rf(r, 403, "RF.10013002")
        else:
            assert r.status == 204
            left.remove(version)
    got = [v[VERSION[kind]] for v in emu.state()[kind][0]["versions"]]
    assert got == {"providers": [], "modules": [], "hooks": ["1.0.0"],
                   "templates": ["V1"]}[kind]
    assert call(emu, "DELETE", kind, "vers").status == 204


def test_hook_default_is_its_first_version_and_listed(emu):
    emu.add_rfs("hooks", "h-a-hook", ["1.0.0", "2.0.0"],
                default_version="2.0.0")
    r = call(emu, "GET", "hooks")
    assert entries(r, "hooks")[0]["default_version"] == "2.0.0"
    assert call(emu, "DELETE", "hooks", "h-a-hook", "1.0.0").status == 204
    assert_rf(call(emu, "DELETE", "hooks", "h-a-hook", "2.0.0"), 403,
              "RF.10013002")
    emu.seed(hooks=1, versions=2)
    hooks = {h["hook_name"]: h for h in emu.state()["hooks"]}
    assert hooks["emu-hook-00001"]["default_version"] == "1.0.0"


def test_seeding_gives_hooks_and_templates_a_version(emu):
    r = emu.seed(providers=2, modules=2, hooks=2, templates=2, versions=0)
    assert r == {"packages": 0, "providers": 2, "modules": 2, "hooks": 2,
                 "templates": 2}
    st = emu.state()
    assert [len(p["versions"]) for k in RFS_KINDS for p in st[k]] == \
        [0, 0, 0, 0, 1, 1, 1, 1]
    emu.seed(templates=1, versions=3, clear=True)
    t = emu.state()["templates"][0]
    assert t["template_name"] == "emu-template-00001"
    assert [v["version_id"] for v in t["versions"]] == ["V1", "V2", "V3"]
    assert t["latest_version_id"] == "V3"


def test_templates_live_under_the_project(emu):
    emu.seed(templates=1)
    other = "f" * 32
    r = emu.sign_and_request("GET", emu.rfs_path("templates", project=other))
    assert_rf(r, 403, "RF.10013001")
    r = emu.sign_and_request("DELETE", emu.rfs_path(
        "templates", seeded("templates"), project=other))
    assert_rf(r, 403, "RF.10013001")
    assert len(emu.state()["templates"]) == 1
    assert emu.stats()["deletes"][0]["resource"] == seeded("templates")


def test_show_answers_per_kind(emu):
    fields = {}
    for kind in RFS_KINDS:
        emu.add_rfs(kind, "shown", V[kind][:2])
        name = call(emu, "GET", kind, "shown", suffix="/metadata").json()
        ver = call(emu, "GET", kind, "shown", V[kind][1], "/metadata").json()
        fields[kind] = (set(name), set(ver))
        assert name[NAME[kind]] == ver[NAME[kind]] == "shown"
    assert fields["modules"] == (
        {"module_name", "module_id", "module_description", "create_time",
         "update_time"},
        {"module_name", "module_id", "module_version", "version_description",
         "create_time", "module_source"})
    assert fields["hooks"] == (
        {"hook_name", "hook_id", "hook_description", "default_version",
         "create_time", "update_time"},
        {"hook_name", "hook_id", "hook_version", "hook_version_description",
         "create_time"})
    # a template's show has no latest_*, its version's show no version_id
    assert fields["templates"] == (
        {"template_id", "template_name", "template_description",
         "create_time", "update_time"},
        {"template_id", "template_name", "version_description",
         "create_time"})
    listed = entries(call(emu, "GET", "templates"), "templates")[0]
    assert listed["latest_version_id"] == "V2"


@pytest.mark.parametrize("kind,body,version_body", [
    ("modules", {"module_name": "m1", "module_version": "1.0.0",
                 "module_uri": "obs://b/m.zip"},
     {"module_version": "1.1.0", "module_uri": "obs://b/m2.zip"}),
    ("hooks", {"hook_name": "h1-x-hook", "hook_version": "1.0.0",
               "policy_body": "package p"},
     {"hook_version": "1.1.0", "policy_uri": "obs://b/p.rego"}),
    ("templates", {"template_name": "t1", "template_body": "{}"},
     {"template_uri": "obs://b/t.tf"})])
def test_creates_through_the_api(emu, kind, body, version_body):
    r = call(emu, "POST", kind, body=body)
    assert r.status == 201 and len(r.json()[ID[kind]]) == 36
    name = body[NAME[kind]]
    assert call(emu, "POST", kind, body=body).status == 409
    r = call(emu, "POST", kind, name, suffix="/versions", body=version_body)
    assert r.status == 201
    got = [v[VERSION[kind]] for v in emu.state()[kind][0]["versions"]]
    assert got == (["V1", "V2"] if kind == "templates" else
                   ["1.0.0", "1.1.0"])
    bad = dict(body, **{NAME[kind]: "other"})
    bad.pop(next(k for k in bad if k.endswith(("_uri", "_body"))))
    assert_rf(call(emu, "POST", kind, body=bad), 400, "RF.10011001")
    assert emu.count(rfs_op(kind, "create")) == 3
    assert emu.count(rfs_op(kind, "create_version")) == 1


# ------------------------------------------------------- control, faults

@pytest.mark.parametrize("kind", RFS_KINDS)
def test_control_calls_change_state_behind_the_clients_back(emu, kind):
    emu.add_rfs(kind, "ctl", 2, age_days=10)
    assert [v[VERSION[kind]] for v in emu.state()[kind][0]["versions"]] == \
        ([kind == "templates" and "V1" or "1.0.0",
          kind == "templates" and "V2" or "1.0.1"])
    emu.add_rfs_version(kind, "ctl", None if kind == "templates" else
                        "3.0.0")
    emu.delete_rfs_version(kind, "ctl", V[kind][0] if kind == "templates"
                           else "1.0.0")
    got = [v[VERSION[kind]] for v in emu.state()[kind][0]["versions"]]
    assert got == (["V2", "V3"] if kind == "templates" else
                   ["1.0.1", "3.0.0"])
    emu.delete_rfs(kind, "ctl")
    assert emu.state()[kind] == []
    assert emu.stats()["total"] == 0
    assert emu.request("POST", "/_emu/rfs/nope", {"name": "x"}).status == 404


@pytest.mark.parametrize("kind", RFS_KINDS)
def test_faults_apply_to_every_kind(emu, kind):
    emu.add_rfs(kind, "f1", V[kind][:1])
    emu.faults(status_for=[{"match": "/f1", "status": 503}])
    assert call(emu, "GET", kind, "f1", suffix="/versions").status == 503
    emu.clear_faults()
    emu.faults(hostile="no_provider_id")
    for version, suffix in [(None, ""), (None, "/metadata"),
                            (None, "/versions"), (V[kind][0], "/metadata")]:
        name = None if suffix == "" else "f1"
        body = call(emu, "GET", kind, name, version, suffix).body.decode()
        assert ID[kind] not in body and "f1" in body
    emu.faults(hostile="bad_names")
    got = [e[NAME[kind]] for e in entries(call(emu, "GET", kind), kind)]
    assert ".." in got and "f1" in got
    emu.clear_faults()
    emu.faults(inject=[{"op": rfs_op(kind, "list"), "entry": '{"x": 1}'}])
    assert entries(call(emu, "GET", kind), kind)[0] == {"x": 1}


@pytest.mark.parametrize("kind", ["modules", "hooks"])
def test_endless_pages_for_paged_kinds(emu, kind):
    emu.faults(hostile="endless_pages")
    r = call(emu, "GET", kind, query={"limit": 10})
    got = entries(r, kind)
    assert len(got) == 10 and r.json()["page_info"]["next_marker"]
    assert got[0][NAME[kind]].startswith("endless-") and ID[kind] in got[0]


def test_command_line_and_seed_file_seed_every_kind(tmp_path):
    from emulator.harness import Emulator
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"templates": 1, "rfs": {
        "hooks": [{"name": "from-file-hook", "versions": ["1.0.0"]}]}}))
    emu = Emulator(modules=2, hooks=1, versions=1, seed_file=str(seed))
    emu.start()
    try:
        st = emu.state()
        assert [m["module_name"] for m in st["modules"]] == \
            ["emu-module-00002", "emu-module-00001"]
        assert sorted(h["hook_name"] for h in st["hooks"]) == \
            ["emu-hook-00001", "from-file-hook"]
        assert len(st["templates"]) == 1
    finally:
        emu.stop()
