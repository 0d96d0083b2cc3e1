"""SPEC §10: the ProjectMan subset (CodeArts projects and their members), driven by huaweicloudsdkprojectman."""

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkprojectman.v4 import (
    AddMemberRequestV4, AddMemberV4Request, BatchAddMemberRequestV4, BatchAddMembersV4Request,
    BatchAddMembersV4RequestBody, BatchDeleteMembersV4Request, BatchDeleteMembersV4RequestBody,
    CreateProjectV4Request, CreateProjectV4RequestBody, DeleteProjectV4Request, ListProjectMembersV4Request,
    ListProjectsV4Request, ShowProjectInfoV4Request, UpdateProjectRequestV4, UpdateProjectV4Request,
)

from harness import ALNUM32, PROJECTMAN_ROLES, ROLE_CREATOR, ROLE_DEVELOPER, assert_sdk_error, unique


@pytest.fixture
def pm(arca):
    return arca.projectman_client()


def members_of(pm, project_id):
    resp = pm.list_project_members_v4(ListProjectMembersV4Request(project_id=project_id, offset=0, limit=100))
    assert resp.total == len(resp.members)
    return {m.user_id: m for m in resp.members}


def test_create_project(arca, pm):
    name = unique("proj")
    resp = pm.create_project_v4(CreateProjectV4Request(body=CreateProjectV4RequestBody(
        project_name=name, description="first", project_type="scrum")))
    assert ALNUM32.match(resp.project_id), resp.project_id
    assert resp.project_name == name
    assert resp.description == "first"
    assert resp.project_type == "scrum"


def test_project_ids_are_distinct(arca):
    assert arca.create_project() != arca.create_project()


def test_list_projects_includes_new_project(arca, pm):
    name = unique("proj")
    project_id = arca.create_project(name)
    resp = pm.list_projects_v4(ListProjectsV4Request(offset=0, limit=100))
    assert resp.total >= 1
    listed = {p.project_id: p for p in resp.projects}
    assert project_id in listed
    assert listed[project_id].project_name == name
    assert listed[project_id].creator.user_id == arca.root.user_id


def test_list_projects_pages(arca, pm):
    for _ in range(3):
        arca.create_project()
    full = pm.list_projects_v4(ListProjectsV4Request(offset=0, limit=100))
    first = pm.list_projects_v4(ListProjectsV4Request(offset=0, limit=2))
    second = pm.list_projects_v4(ListProjectsV4Request(offset=2, limit=2))
    assert first.total == second.total == full.total
    assert len(first.projects) == 2
    assert [p.project_id for p in first.projects + second.projects] == \
        [p.project_id for p in full.projects[:4]]


def test_show_project_info(arca, pm):
    name = unique("proj")
    project_id = arca.create_project(name)
    project = pm.show_project_info_v4(ShowProjectInfoV4Request(project_id=project_id)).project
    assert (project.project_id, project.name, project.project_type) == (project_id, name, "scrum")
    assert project.creator.user_id == arca.root.user_id
    assert project.creator.domain_id == arca.domain_id


def test_update_project(arca, pm):
    project_id = arca.create_project()
    new_name = unique("renamed")
    pm.update_project_v4(UpdateProjectV4Request(project_id=project_id, body=UpdateProjectRequestV4(
        project_name=new_name, description="changed")))
    project = pm.show_project_info_v4(ShowProjectInfoV4Request(project_id=project_id)).project
    assert project.name == new_name
    listed = {p.project_id: p for p in pm.list_projects_v4(ListProjectsV4Request(offset=0, limit=100)).projects}
    assert listed[project_id].description == "changed"


def test_delete_project(arca, pm):
    project_id = arca.create_project()
    pm.delete_project_v4(DeleteProjectV4Request(project_id=project_id))
    with pytest.raises(ClientRequestException) as e:
        pm.show_project_info_v4(ShowProjectInfoV4Request(project_id=project_id))
    assert_sdk_error(e.value, 404)
    listed = [p.project_id for p in pm.list_projects_v4(ListProjectsV4Request(offset=0, limit=100)).projects]
    assert project_id not in listed


def test_unknown_project_is_not_found(pm):
    with pytest.raises(ClientRequestException) as e:
        pm.show_project_info_v4(ShowProjectInfoV4Request(project_id="A" * 32))
    assert_sdk_error(e.value, 404)


def test_malformed_project_id_is_400(pm):
    with pytest.raises(ClientRequestException) as e:
        pm.show_project_info_v4(ShowProjectInfoV4Request(project_id="not-a-project-id"))
    assert_sdk_error(e.value, 400)


def test_creator_is_a_member_with_role_minus_one(arca, pm):
    project_id = arca.create_project()
    members = members_of(pm, project_id)
    assert list(members) == [arca.root.user_id]
    assert members[arca.root.user_id].role_id == ROLE_CREATOR


def test_add_member(arca, pm):
    project_id = arca.create_project()
    user = arca.create_user(with_key=False)
    pm.add_member_v4(AddMemberV4Request(project_id=project_id, body=AddMemberRequestV4(
        user_id=user.user_id, role_id=ROLE_DEVELOPER, domain_id=arca.domain_id)))
    member = members_of(pm, project_id)[user.user_id]
    assert (member.role_id, member.role_name, member.user_name) == (ROLE_DEVELOPER, "Developer", user.name)
    assert member.domain_id == arca.domain_id


@pytest.mark.parametrize("role_id", sorted(PROJECTMAN_ROLES))
def test_role_id_maps_to_built_in_role(arca, pm, role_id):
    project_id = arca.create_project()
    user = arca.create_user(with_key=False)
    arca.add_member(project_id, user.user_id, role_id)
    member = members_of(pm, project_id)[user.user_id]
    assert (member.role_id, member.role_name) == (role_id, PROJECTMAN_ROLES[role_id][0])


def test_batch_add_members(arca, pm):
    project_id = arca.create_project()
    users = [arca.create_user(with_key=False) for _ in range(3)]
    roles = [4, 6, 8]
    pm.batch_add_members_v4(BatchAddMembersV4Request(project_id=project_id, body=BatchAddMembersV4RequestBody(
        users=[BatchAddMemberRequestV4(user_id=u.user_id, role_id=r) for u, r in zip(users, roles)])))
    members = members_of(pm, project_id)
    assert set(members) == {arca.root.user_id} | {u.user_id for u in users}
    for user, role in zip(users, roles):
        assert members[user.user_id].role_id == role


def test_batch_delete_members(arca, pm):
    project_id = arca.create_project()
    keep, drop1, drop2 = (arca.create_user(with_key=False) for _ in range(3))
    for u in (keep, drop1, drop2):
        arca.add_member(project_id, u.user_id, ROLE_DEVELOPER)
    pm.batch_delete_members_v4(BatchDeleteMembersV4Request(project_id=project_id, body=BatchDeleteMembersV4RequestBody(
        user_ids=[drop1.user_id, drop2.user_id])))
    assert set(members_of(pm, project_id)) == {arca.root.user_id, keep.user_id}


def test_list_members_pages(arca, pm):
    project_id = arca.create_project()
    for _ in range(3):
        arca.add_member(project_id, arca.create_user(with_key=False).user_id, ROLE_DEVELOPER)
    page = pm.list_project_members_v4(ListProjectMembersV4Request(project_id=project_id, offset=1, limit=2))
    assert page.total == 4
    assert len(page.members) == 2


@pytest.mark.parametrize("role_id", [0, 2, 13, 99])
def test_unknown_role_id_is_400(arca, pm, role_id):
    project_id = arca.create_project()
    user = arca.create_user(with_key=False)
    with pytest.raises(ClientRequestException) as e:
        arca.add_member(project_id, user.user_id, role_id)
    assert_sdk_error(e.value, 400)


def test_adding_unknown_user_fails(arca, pm):
    project_id = arca.create_project()
    with pytest.raises(ClientRequestException) as e:
        arca.add_member(project_id, "0" * 32, ROLE_DEVELOPER)
    assert e.value.status_code in (400, 404)
    assert_sdk_error(e.value, e.value.status_code)


def test_iam_user_without_membership_cannot_delete_project(arca):
    project_id = arca.create_project()
    user = arca.create_user()
    with pytest.raises(ClientRequestException) as e:
        arca.projectman_client(user.ak, user.sk).delete_project_v4(DeleteProjectV4Request(project_id=project_id))
    assert e.value.status_code in (403, 404)
    assert_sdk_error(e.value, e.value.status_code)
