"""`csc import` as a script runs it, on files as councils really send them: the exit status a
scheduler can trust (README, "Exit status"), the verdict as the first line, bounded memory on
hostile files, a `--report` CSV safe to open in Excel, and an import that keeps going while its
service restarts."""

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import csc_binary, free_port, serve

MIB = 1024 * 1024
HEADER = "contact_id,child_id,contact_date,source,became_referral\n"


def run_import(args, addr, timeout=300):
    """Runs `csc import ...` against a front door at `addr`; (exit status, stdout, stderr)."""
    proc = subprocess.Popen(
        [csc_binary(), "import", *args, "--frontdoor", addr],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def peak_rss_mib(argv, timeout=300):
    """Runs argv and returns (exit status, stdout, peak RSS in MiB of that process alone)."""
    out = tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.time() > deadline:
            proc.kill()
            pytest.fail(f"{argv} did not finish in {timeout} s")
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    return proc.returncode, out.read().decode(errors="replace"), usage.ru_maxrss / 1024


@pytest.fixture(scope="module")
def files():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def test_exit_status_is_0_when_every_record_lands_and_3_when_any_is_refused(frontdoor, files):
    clean = files / "clean.csv"
    clean.write_text(HEADER + "K1,C1,2025-05-01,6,N\nK2,C2,02/05/25,6,Y\n")
    code, out, err = run_import(["contacts", str(clean), "--la", "885"], frontdoor)
    assert code == 0, out + err
    assert out.splitlines()[0].startswith("Imported: all 2 record(s) accepted or unchanged"), out

    # The same again: unchanged is still a success.
    code, out, _ = run_import(["contacts", str(clean), "--la", "885"], frontdoor)
    assert code == 0, out

    bad = files / "bad.csv"
    bad.write_text(HEADER + "K3,C3,2025-05-01,6,N\nK4,C4,2025-02-30,6,N\n")
    code, out, err = run_import(["contacts", str(bad), "--la", "885"], frontdoor)
    assert code == 3, out + err
    assert out.splitlines()[0].startswith("Imported with refusals: 1 record(s) of 2 refused"), out
    assert "bad.csv line 3 column contact_date" in out
    # Stderr says what the exit status means, not the summary's verdict over again.
    assert "csc import: exit status 3" in err and "Imported with refusals" not in err, err

    # A table refused whole (a required column missing) is exit 3 too, and names the columns.
    nocol = files / "nocol.csv"
    nocol.write_text("contact_id,child_id,source\nK5,C5,6\n")
    code, out, _ = run_import(["contacts", str(nocol), "--la", "885"], frontdoor)
    assert code == 3, out
    assert "REFUSED" in out and "CONTACT_DATE, BECAME_REFERRAL" in out

    # A workbook given as CSV is named.
    xlsx = files / "contacts.xlsx"
    xlsx.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00[Content_Types].xml xl/workbook.xml")
    code, out, _ = run_import(["contacts", str(xlsx), "--la", "885"], frontdoor)
    assert code == 3, out
    assert "this is an Excel workbook (.xlsx)" in out


def test_exit_status_is_1_when_the_import_cannot_run(files):
    clean = files / "one.csv"
    clean.write_text(HEADER + "K1,C1,2025-05-01,6,N\n")
    code, out, err = run_import(["contacts", str(clean), "--la", "885"], f"127.0.0.1:{free_port()}")
    assert code == 1, out + err
    assert "cannot reach the front door service" in err


def test_the_report_csv_is_safe_to_open_in_a_spreadsheet(frontdoor, files):
    hostile = files / "hostile.csv"
    hostile.write_text(
        HEADER
        + "K1,=1+2,2025-13-01,6,N\n"
        + "K2,@SUM(A1),not a date,6,N\n"
        + "K3,\"=cmd|' /C calc'!A0\",2025-05-01,+6,N\n"
    )
    report = files / "report.csv"
    code, out, _ = run_import(["contacts", str(hostile), "--la", "885", "--report", str(report)], frontdoor)
    assert code == 3, out
    import csv

    rows = list(csv.reader(report.open(newline="")))
    assert rows[0] == ["severity", "record", "child_id", "source", "reason"]
    cells = [c for r in rows[1:] for c in r]
    assert len(rows) > 3
    for c in cells:
        assert not c.startswith(("=", "+", "-", "@", "\t", "\r")), (c, rows)
    assert "'=1+2" in cells


def test_an_annex_a_workbook_written_by_openpyxl_lands_and_its_bad_cell_is_named(frontdoor, protection, files):
    """An Annex A as another tool writes it (openpyxl: inline strings, datetimes, formulas saved
    without a value), with renamed sheets and a title block: its good rows land, its bad cell is
    named by sheet and cell, the formula without a value is said, the exit status is 3, and the
    same workbook again changes nothing."""
    import datetime

    from openpyxl import Workbook

    wb = Workbook()
    contacts = wb.active
    contacts.title = "Contacts received"
    contacts.append(["Annex A - synthetic council"])
    contacts.append([])
    contacts.append(["Child Unique ID", "Gender", "Date of Contact", "Contact Source"])
    contacts.append([9212044.0, "a) Male", datetime.datetime(2025, 5, 1), "q) 6: Police"])
    contacts.append(["C2", "b) Female", "02/05/2025", "Schools"])
    referrals = wb.create_sheet("Sheet3")
    referrals.append(["Child Unique ID", "Date of referral", "Referral Source", "Referral NFA?"])
    referrals.append([9212044, datetime.date(2025, 5, 2), "6", "b) No"])
    referrals.append(["C3", "31/02/2025", "6", "b) No"])
    assessments = wb.create_sheet("List 4")
    assessments.append(
        [
            "Child Unique ID",
            "Continuous Assessment Start Date",
            "Continuous Assessment Date of Authorisation",
            "Was the child assessed as requiring LA children's social care support?",
        ]
    )
    assessments.append(["9212044", datetime.date(2025, 5, 3), datetime.date(2025, 6, 2), "=IF(1,\"a) Yes\")"])
    path = files / "annex_a.xlsx"
    wb.save(path)

    argv = ["annex-a", str(path), "--la", "885", "--protection", protection]
    code, out, err = run_import(argv, frontdoor)
    assert code == 3, out + err
    assert out.splitlines()[0].startswith("Imported with refusals: 1 record(s) of 5 refused"), out
    assert "Sheet3!B3 (Date of referral)" in out and '"31/02/2025" is not a date' in out, out
    assert "List 4!D2" in out and "has no saved value" in out, out
    tallies = {l.split()[0]: l.split()[1:] for l in out.splitlines() if l.startswith(("contacts ", "referrals ", "assessments "))}
    assert tallies["contacts"] == ["2", "2", "0", "0"], out
    assert tallies["referrals"] == ["2", "1", "0", "1"], out
    assert tallies["assessments"] == ["1", "1", "0", "0"], out

    code, out, _ = run_import(argv, frontdoor)
    assert code == 3, out
    tallies = {l.split()[0]: l.split()[1:] for l in out.splitlines() if l.startswith(("contacts ", "referrals "))}
    assert tallies["contacts"] == ["2", "0", "2", "0"], out
    assert tallies["referrals"] == ["2", "0", "1", "1"], out


def test_a_200_mb_one_line_csv_is_refused_in_bounded_memory(frontdoor, files):
    huge = files / "huge.csv"
    with huge.open("wb") as f:
        f.write(HEADER.encode())
        chunk = b"x" * MIB
        for _ in range(200):
            f.write(chunk)
    code, out, rss = peak_rss_mib([csc_binary(), "import", "contacts", str(huge), "--la", "885", "--frontdoor", frontdoor])
    huge.unlink()
    assert code == 3, out
    assert "line 2 is longer than 1048576 bytes" in out
    assert rss < 500, f"peak RSS {rss:.0f} MiB"


def test_xml_nested_150k_deep_is_refused_in_bounded_memory(frontdoor, protection, files):
    deep = files / "deep.xml"
    n = 150_000
    deep.write_bytes(b"<Message>" + b"<a>" * n + b"</a>" * n + b"</Message>")
    code, out, rss = peak_rss_mib(
        [csc_binary(), "import", "cin", str(deep), "--la", "885", "--frontdoor", frontdoor, "--protection", protection]
    )
    assert code == 3, out
    assert "nest deeper than 256" in out
    assert rss < 500, f"peak RSS {rss:.0f} MiB"


def test_an_import_keeps_going_while_its_service_restarts(files):
    """kill -9 of the front door mid-import, then a restart on the same address and database:
    the import retries with the same request ids and lands every row exactly once."""
    rows = 60_000
    big = files / "big.csv"
    with big.open("w") as f:
        f.write(HEADER)
        for i in range(rows):
            f.write(f"K{i},C{i % 5000},2025-05-{1 + i % 28:02d},6,N\n")
    with tempfile.TemporaryDirectory() as tmp:
        addr = f"127.0.0.1:{free_port()}"
        argv = [csc_binary(), "serve", "frontdoor", "--listen", addr, "--database-url", f"sqlite://{tmp}/frontdoor.db", "--insecure-no-auth"]
        log = open(Path(tmp) / "serve.log", "w")
        server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_serving(addr)
            importer = subprocess.Popen(
                [csc_binary(), "import", "contacts", str(big), "--la", "885", "--frontdoor", addr],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)
            server.send_signal(signal.SIGKILL)
            server.wait()
            time.sleep(1.5)
            server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            out, err = importer.communicate(timeout=240)
            assert importer.returncode == 0, out + err
            assert f"Imported: all {rows:,} record(s)" in out, out
            # Every row is held exactly once: importing again finds them all unchanged.
            code, again, _ = run_import(["contacts", str(big), "--la", "885"], addr)
            assert code == 0, again
            counts = [l for l in again.splitlines() if l.startswith("contacts ")]
            assert counts and counts[0].split()[1:] == [str(rows), "0", str(rows), "0"], again
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


def wait_serving(addr, timeout=30):
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.time() + timeout
    channel = grpc.insecure_channel(addr)
    stub = health_pb2_grpc.HealthStub(channel)
    while True:
        try:
            req = health_pb2.HealthCheckRequest(service="csc.frontdoor.v1.FrontDoorService")
            if stub.Check(req, timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                break
        except grpc.RpcError:
            pass
        if time.time() > deadline:
            pytest.fail(f"front door at {addr} did not start")
        time.sleep(0.1)
    channel.close()
