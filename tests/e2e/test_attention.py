"""Issue 13: following artifacts (create_attention, list_attentions) through the official SDK. The ids are the
ones search_artifacts and list_artifactory_component answer; a follow survives a redeploy, needs `download` on
the artifact, and drops out of the list when the artifact is deleted."""

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (AttentionDO, CreateAttentionRequest, ListAttentionsRequest)

from harness import ROLE_DEVELOPER, assert_error, assert_sdk_error, unique

SEARCH = "/cloudartifact/v5/tree/repos/artifacts"


def upload(srv, login, repo, rel, data):
    resp = requests.put(srv.url("/artifactory/%s/%s" % (repo, rel)), data=data, auth=login, timeout=30)
    assert resp.status_code in (200, 201), resp.text


def artifact_id(srv, project, name, **signer):
    resp = srv.signed("POST", SEARCH, body={"artifact_name": name, "project_id": project, "in_project": True},
                      **signer)
    assert resp.status_code == 200, resp.text
    found = resp.json()["result"]["artifacts"]
    assert len(found) == 1, found
    return found[0]["id"]


def follow(client, ids, attention="true", fmt=None):
    return client.create_attention(CreateAttentionRequest(body=AttentionDO(attention=attention, ids=ids,
                                                                           format=fmt)))


def followed(client, **kw):
    return client.list_attentions(ListAttentionsRequest(page_no=1, page_size=100, **kw)).result


@pytest.fixture(scope="module")
def world(srv, project, login):
    repo = srv.create_repo(project, "generic")
    name = unique("watched") + ".bin"
    upload(srv, login, repo, "w/%s" % name, b"first")
    return {"repo": repo, "name": name, "rel": "w/%s" % name}


def test_follow_list_survives_a_redeploy_and_unfollow(srv, project, login, world):
    client = srv.artifact_client()
    first = artifact_id(srv, project, world["name"])
    detail = srv.signed("GET", "/cloudartifact/v5/%s/%s/%s/file-detail" % (srv.domain_id, project, world["repo"]),
                        query={"path": "/" + world["rel"]})
    assert detail.json()["result"]["id"] == first
    follow(client, [first], fmt="generic")
    listed = followed(client)
    assert listed.total_records == 1
    row = listed.data[0]
    assert (row.artifact_id, row.path, row.repository_name, row.format, row.user_id) == \
        (first, "/" + world["rel"], world["repo"], "generic", srv.root.user_id)
    # Following again changes nothing; a redeploy replaces the file and keeps the follow.
    follow(client, [first])
    upload(srv, login, world["repo"], world["rel"], b"second")
    second = artifact_id(srv, project, world["name"])
    assert [r.artifact_id for r in followed(client).data] == [second]
    assert followed(client, project_id=project).total_records == 1
    assert followed(client, project_id=srv.create_project()).total_records == 0
    follow(client, [second], attention="false")
    assert followed(client).total_records == 0


def test_a_deleted_artifact_drops_out(srv, project, login, world):
    client = srv.artifact_client()
    name = unique("gone") + ".bin"
    upload(srv, login, world["repo"], name, b"x")
    follow(client, [artifact_id(srv, project, name)])
    assert followed(client).total_records == 1
    assert requests.delete(srv.url("/artifactory/%s/%s" % (world["repo"], name)), auth=login, timeout=10).ok
    assert followed(client).total_records == 0


def test_bad_ids_and_privileges(srv, project, login, world):
    client = srv.artifact_client()
    known = artifact_id(srv, project, world["name"])
    with pytest.raises(Exception) as err:
        follow(client, [known, "999999999"])
    assert "ids[1]" in str(err.value)
    assert_sdk_error(err.value, 404)
    assert followed(client).total_records == 0, "nothing changes when one id fails"
    for body, param in (({"attention": "maybe", "ids": [known]}, "attention"),
                        ({"attention": "true", "ids": []}, "ids"),
                        ({"attention": "true", "ids": ["x"]}, "ids[0]"),
                        ({"attention": "true", "ids": [known], "format": "npm"}, "format")):
        assert param in assert_error(srv.signed("POST", "/cloudartifact/v5/attention", body=body), 400)["error_msg"]
    # A user of another project cannot follow what they cannot read.
    user = srv.create_user()
    srv.add_member(srv.create_project(), user.user_id, ROLE_DEVELOPER)
    resp = srv.signed("POST", "/cloudartifact/v5/attention", body={"attention": "true", "ids": [known]},
                      ak=user.ak, sk=user.sk)
    assert_error(resp, 404)
    # A member of the project may; the follows are theirs alone.
    srv.add_member(project, user.user_id, ROLE_DEVELOPER)
    resp = srv.signed("POST", "/cloudartifact/v5/attention", body={"attention": "true", "ids": [known]},
                      ak=user.ak, sk=user.sk)
    assert resp.status_code == 200, resp.text
    assert followed(srv.artifact_client(ak=user.ak, sk=user.sk)).total_records == 1
    assert followed(client).total_records == 0
