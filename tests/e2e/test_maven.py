"""Issue 3 §3: the real Maven client against arca, offline. Debian's packaged plugins
(/usr/share/maven-repo, installed by scripts/test.sh) stand in for Central through a mirror of every
repository but arca's own; arca's repositories are reached with the repo user's credentials from
settings.xml. Libraries are deployed (release, SNAPSHOT twice, deploy-file), then a consumer project with a
fresh local repository resolves them from arca, compiles and runs."""

import hashlib
import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import UpdateArtifactoryRequest, UpdateNotMavenRepoDO

from harness import unique

DEBIAN_REPO = Path("/usr/share/maven-repo")
MVN = shutil.which("mvn")
PLUGINS = ("clean", "resources", "compiler", "surefire", "jar", "install", "deploy")


def debian_plugin_version(plugin: str) -> str:
    """The version of maven-<plugin>-plugin Debian ships: the version directory holding the plugin's jar
    (the others only relocate to it; `debian` is an alias). Debian 12: clean 3.2.0, resources 3.3.0,
    compiler 3.10.1, surefire 2.22.3, jar 3.3.0, install 3.1.0, deploy 3.0.0."""
    base = DEBIAN_REPO / "org/apache/maven/plugins" / ("maven-%s-plugin" % plugin)
    real = sorted((d.name for d in base.iterdir() if d.name != "debian"
                   and (d / ("maven-%s-plugin-%s.jar" % (plugin, d.name))).is_file()),
                  key=lambda v: [int(x) if x.isdigit() else x for x in re.split(r"[.-]", v)])
    assert real, "no maven-%s-plugin jar under %s: run scripts/test.sh, which installs it" % (plugin, base)
    return real[-1]


def plugin_management() -> str:
    return "".join("<plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-%s-plugin</artifactId>"
                   "<version>%s</version></plugin>" % (p, debian_plugin_version(p)) for p in PLUGINS)


@pytest.fixture(scope="module", autouse=True)
def maven_installed():
    # Not a skip: CI must run these, and scripts/test.sh installs what they need.
    assert MVN and (DEBIAN_REPO / "org/apache/maven/plugins/maven-deploy-plugin").is_dir(), \
        "mvn and Debian's Maven plugins are needed: run scripts/test.sh, which installs them"


def settings_xml(path: Path, local_repo: Path, user: str, password: str):
    path.write_text(textwrap.dedent("""\
        <settings>
          <localRepository>%(local)s</localRepository>
          <offline>false</offline>
          <mirrors>
            <mirror>
              <id>debian</id>
              <mirrorOf>*,!arca-release,!arca-snapshot</mirrorOf>
              <url>file://%(debian)s</url>
            </mirror>
          </mirrors>
          <servers>
            <server><id>arca-release</id><username>%(user)s</username><password>%(password)s</password></server>
            <server><id>arca-snapshot</id><username>%(user)s</username><password>%(password)s</password></server>
          </servers>
        </settings>
        """) % {"local": local_repo, "debian": DEBIAN_REPO, "user": user, "password": password})


def pom(group, artifact, version, release_url, snapshot_url, dependencies=""):
    return textwrap.dedent("""\
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>%(group)s</groupId>
          <artifactId>%(artifact)s</artifactId>
          <version>%(version)s</version>
          <packaging>jar</packaging>
          <properties>
            <maven.compiler.source>17</maven.compiler.source>
            <maven.compiler.target>17</maven.compiler.target>
            <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
          </properties>
          <dependencies>%(dependencies)s</dependencies>
          <build><pluginManagement><plugins>%(plugins)s</plugins></pluginManagement></build>
          <repositories>
            <repository><id>arca-release</id><url>%(release)s</url>
              <releases><enabled>true</enabled></releases><snapshots><enabled>false</enabled></snapshots>
            </repository>
            <repository><id>arca-snapshot</id><url>%(snapshot)s</url>
              <releases><enabled>false</enabled></releases><snapshots><enabled>true</enabled></snapshots>
            </repository>
          </repositories>
          <distributionManagement>
            <repository><id>arca-release</id><url>%(release)s</url></repository>
            <snapshotRepository><id>arca-snapshot</id><url>%(snapshot)s</url></snapshotRepository>
          </distributionManagement>
        </project>
        """) % {"group": group, "artifact": artifact, "version": version, "release": release_url,
                "snapshot": snapshot_url, "dependencies": dependencies,
                "plugins": plugin_management()}


def java_project(root: Path, pom_text: str, sources: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pom.xml").write_text(pom_text)
    for rel, text in sources.items():
        f = root / "src/main/java" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text))
    return root


def mvn(settings: Path, cwd: Path, *goals, check=True):
    out = subprocess.run([MVN, "-B", "-e", "-s", str(settings), *goals], cwd=cwd, capture_output=True,
                         text=True, timeout=600)
    if check:
        assert out.returncode == 0, "mvn %s failed:\n%s" % (" ".join(goals), out.stdout[-6000:])
    return out


@pytest.fixture(scope="module")
def env(srv, tmp_path_factory):
    """A project with a Maven pair, the root's repo login, and settings.xml for deployers."""
    work = tmp_path_factory.mktemp("maven")
    project = srv.create_project()
    pair = srv.create_maven_repo(project, unique("mvn"))
    user, password = srv.repo_login()
    settings = work / "settings.xml"
    settings_xml(settings, work / "deployer-m2", user, password)
    return {
        "work": work, "settings": settings, "user": user, "password": password, "pair": pair,
        "release_url": srv.url("/artifactory/%s/" % pair["release"]),
        "snapshot_url": srv.url("/artifactory/%s/" % pair["snapshot"]),
    }


@pytest.fixture(scope="module")
def deployed(srv, env):
    """Deploys com.acme:greeter:1.0 (release), com.acme:shouter:0.1-SNAPSHOT twice, and a plain jar with
    deploy:deploy-file as com.acme.tools:tool 10.0 and then 2.0."""
    greeter = java_project(env["work"] / "greeter", pom("com.acme", "greeter", "1.0", env["release_url"],
                                                        env["snapshot_url"]), {
        "com/acme/Greeter.java": """\
            package com.acme;
            public class Greeter { public static String greet(String who) { return "Hello, " + who + "!"; } }
            """})
    out = mvn(env["settings"], greeter, "deploy").stdout
    for plugin in ("resources", "compiler", "jar", "install", "deploy"):  # the pinned versions ran
        assert "maven-%s-plugin:%s:" % (plugin, debian_plugin_version(plugin)) in out, (plugin, out[-3000:])
    shouter = java_project(env["work"] / "shouter", pom("com.acme", "shouter", "0.1-SNAPSHOT", env["release_url"],
                                                        env["snapshot_url"]), {
        "com/acme/Shouter.java": """\
            package com.acme;
            public class Shouter { public static String shout(String s) { return s.toUpperCase(); } }
            """})
    mvn(env["settings"], shouter, "deploy")
    mvn(env["settings"], shouter, "deploy")
    jar = env["work"] / "tool.jar"
    shutil.copy(greeter / "target" / "greeter-1.0.jar", jar)
    deploy_file = "org.apache.maven.plugins:maven-deploy-plugin:%s:deploy-file" % debian_plugin_version("deploy")
    for version in ("10.0", "2.0"):  # 10.0 first: metadata orders versions, not deploy times or strings
        mvn(env["settings"], env["work"], deploy_file, "-Dfile=%s" % jar, "-DgroupId=com.acme.tools",
            "-DartifactId=tool", "-Dversion=" + version, "-Dpackaging=jar", "-DrepositoryId=arca-release",
            "-Durl=%s" % env["release_url"])
    return {"greeter": greeter, "shouter": shouter, "tool_jar": jar}


def get(srv, env, repo_key, path):
    resp = requests.get(srv.url("/artifactory/%s/%s" % (env["pair"][repo_key], path)),
                        auth=(env["user"], env["password"]), timeout=30)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    return resp


def test_release_metadata_and_checksums(srv, env, deployed):
    meta = ET.fromstring(get(srv, env, "release", "com/acme/greeter/maven-metadata.xml").content)
    assert meta.findtext("groupId") == "com.acme" and meta.findtext("artifactId") == "greeter"
    assert [v.text for v in meta.findall("versioning/versions/version")] == ["1.0"]
    assert meta.findtext("versioning/latest") == "1.0" and meta.findtext("versioning/release") == "1.0"
    assert re.fullmatch(r"\d{14}", meta.findtext("versioning/lastUpdated"))
    jar = get(srv, env, "release", "com/acme/greeter/1.0/greeter-1.0.jar").content
    assert jar == (deployed["greeter"] / "target" / "greeter-1.0.jar").read_bytes()
    for path in ("com/acme/greeter/1.0/greeter-1.0.jar", "com/acme/greeter/1.0/greeter-1.0.pom",
                 "com/acme/greeter/maven-metadata.xml"):
        assert_checksums(srv, env, "release", path)
    tool = get(srv, env, "release", "com/acme/tools/tool/2.0/tool-2.0.jar").content
    assert tool == deployed["tool_jar"].read_bytes()
    tool_meta = ET.fromstring(get(srv, env, "release", "com/acme/tools/tool/maven-metadata.xml").content)
    # Versions in version order (10.0 was deployed first); latest and release are the last deployed.
    assert [v.text for v in tool_meta.findall("versioning/versions/version")] == ["2.0", "10.0"]
    assert tool_meta.findtext("versioning/release") == "2.0"
    assert tool_meta.findtext("versioning/latest") == "2.0"


def assert_checksums(srv, env, repo_key, path):
    """.md5/.sha1/.sha256/.sha512 of `path` are served and match the bytes served for it."""
    data = get(srv, env, repo_key, path).content
    for algo in ("md5", "sha1", "sha256", "sha512"):
        digest = get(srv, env, repo_key, "%s.%s" % (path, algo)).text.strip()
        assert digest == hashlib.new(algo, data).hexdigest(), (path, algo)


def test_snapshot_metadata_counts_builds(srv, env, deployed):
    meta = ET.fromstring(get(srv, env, "snapshot", "com/acme/shouter/0.1-SNAPSHOT/maven-metadata.xml").content)
    assert meta.findtext("version") == "0.1-SNAPSHOT"
    assert meta.findtext("versioning/snapshot/buildNumber") == "2"
    stamp = meta.findtext("versioning/snapshot/timestamp")
    assert re.fullmatch(r"\d{8}\.\d{6}", stamp)
    values = {sv.findtext("extension"): sv.findtext("value")
              for sv in meta.findall("versioning/snapshotVersions/snapshotVersion")}
    assert values["jar"] == "0.1-%s-2" % stamp
    assert values["pom"] == "0.1-%s-2" % stamp
    built = (deployed["shouter"] / "target" / "shouter-0.1-SNAPSHOT.jar").read_bytes()
    assert get(srv, env, "snapshot", "com/acme/shouter/0.1-SNAPSHOT/shouter-0.1-%s-2.jar" % stamp).content == built
    # The first build is still there, under its own number.
    listing = requests.get(srv.url("/artifactory/%s/com/acme/shouter/0.1-SNAPSHOT/" % env["pair"]["snapshot"]),
                           auth=(env["user"], env["password"]), headers={"Accept": "application/json"}, timeout=30)
    jars = sorted(c["name"] for c in listing.json()["children"] if c["name"].endswith(".jar"))
    assert len(jars) == 2 and re.fullmatch(r"shouter-0\.1-\d{8}\.\d{6}-1\.jar", jars[0]), jars
    for path in ("com/acme/shouter/0.1-SNAPSHOT/shouter-0.1-%s-2.jar" % stamp,
                 "com/acme/shouter/0.1-SNAPSHOT/maven-metadata.xml", "com/acme/shouter/maven-metadata.xml"):
        assert_checksums(srv, env, "snapshot", path)
    top = ET.fromstring(get(srv, env, "snapshot", "com/acme/shouter/maven-metadata.xml").content)
    assert [v.text for v in top.findall("versioning/versions/version")] == ["0.1-SNAPSHOT"]
    assert top.findtext("versioning/latest") == "0.1-SNAPSHOT"
    assert top.find("versioning/release") is None


def test_consumer_resolves_compiles_and_runs(srv, env, deployed, tmp_path):
    fresh_settings = tmp_path / "settings.xml"
    local = tmp_path / "consumer-m2"
    settings_xml(fresh_settings, local, env["user"], env["password"])
    deps = """
        <dependency><groupId>com.acme</groupId><artifactId>greeter</artifactId><version>1.0</version></dependency>
        <dependency><groupId>com.acme</groupId><artifactId>shouter</artifactId><version>0.1-SNAPSHOT</version></dependency>
        <dependency><groupId>com.acme.tools</groupId><artifactId>tool</artifactId><version>2.0</version></dependency>
    """
    app = java_project(tmp_path / "app", pom("com.example", "app", "1.0", env["release_url"], env["snapshot_url"],
                                             deps), {
        "com/example/Main.java": """\
            package com.example;
            public class Main {
                public static void main(String[] args) {
                    System.out.println(com.acme.Shouter.shout(com.acme.Greeter.greet("arca")));
                }
            }
            """})
    mvn(fresh_settings, app, "package")
    jars = [app / "target" / "app-1.0.jar",
            local / "com/acme/greeter/1.0/greeter-1.0.jar",
            next((local / "com/acme/shouter/0.1-SNAPSHOT").glob("shouter-0.1-*.jar"))]
    run = subprocess.run(["java", "-cp", ":".join(map(str, jars)), "com.example.Main"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "HELLO, ARCA!"
    assert (local / "com/acme/tools/tool/2.0/tool-2.0.jar").read_bytes() == deployed["tool_jar"].read_bytes()


def test_release_redeploy_is_refused(srv, env, deployed):
    again = mvn(env["settings"], deployed["greeter"], "deploy", check=False)
    assert again.returncode != 0
    assert "409" in again.stdout
    # Once the repository allows redeploys, the same deploy goes through.
    srv.artifact_client().update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=env["pair"]["release"], deployment_policy="allow_redeploy")))
    mvn(env["settings"], deployed["greeter"], "deploy")
    srv.artifact_client().update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=env["pair"]["release"], deployment_policy="disable_redeploy")))


def test_wrong_password_fails_with_401(srv, env, deployed, tmp_path):
    bad = tmp_path / "settings.xml"
    settings_xml(bad, tmp_path / "m2", env["user"], "not-the-password")
    project = java_project(tmp_path / "p", pom("com.acme", "denied", "1.0", env["release_url"], env["snapshot_url"]), {
        "com/acme/Denied.java": "package com.acme; public class Denied {}\n"})
    out = mvn(bad, project, "deploy", check=False)
    assert out.returncode != 0
    assert "401" in out.stdout
    assert requests.get(srv.url("/artifactory/%s/com/acme/denied/1.0/denied-1.0.jar" % env["pair"]["release"]),
                        auth=(env["user"], env["password"]), timeout=10).status_code == 404


def test_snapshot_policy_keeps_the_newest_builds(srv, login):
    """`max_unique_snapshots` (set with update_artifactory) prunes older timestamped builds on deploy."""
    project = srv.create_project()
    pair = srv.create_maven_repo(project)
    srv.artifact_client().update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=pair["snapshot"], max_unique_snapshots="2")))
    base = srv.url("/artifactory/%s/com/acme/pruned/1.0-SNAPSHOT/" % pair["snapshot"])
    for build in (1, 2, 3):
        name = "pruned-1.0-20261124.10000%d-%d" % (build, build)
        for ext in ("jar", "pom"):
            resp = requests.put(base + "%s.%s" % (name, ext), data=b"build %d %s" % (build, ext.encode()),
                                auth=login, timeout=10)
            assert resp.status_code in (200, 201), resp.text
    assert requests.get(base + "pruned-1.0-20261124.100001-1.jar", auth=login, timeout=10).status_code == 404
    for build in (2, 3):
        got = requests.get(base + "pruned-1.0-20261124.10000%d-%d.jar" % (build, build), auth=login, timeout=10)
        assert got.content == b"build %d jar" % build
    meta = ET.fromstring(requests.get(base + "maven-metadata.xml", auth=login, timeout=10).content)
    assert meta.findtext("versioning/snapshot/buildNumber") == "3"
    values = sorted({sv.findtext("value") for sv in meta.findall("versioning/snapshotVersions/snapshotVersion")})
    assert values == ["1.0-20261124.100003-3"]
