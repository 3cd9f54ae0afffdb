"""Demo data for Xiangxi: the prefecture, its eight counties, a few townships,
villages and grids, grid workers and some reported events. Sent over RPC,
like any other caller, so seeding exercises the real write path."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from . import jurisdiction

PREFECTURE = (jurisdiction.PREFECTURE, "湘西土家族苗族自治州 Xiangxi Prefecture")
COUNTIES = [
    ("433101", "吉首市 Jishou"),
    ("433122", "泸溪县 Luxi"),
    ("433123", "凤凰县 Fenghuang"),
    ("433124", "花垣县 Huayuan"),
    ("433125", "保靖县 Baojing"),
    ("433126", "古丈县 Guzhang"),
    ("433127", "永顺县 Yongshun"),
    ("433130", "龙山县 Longshan"),
]
# Township and village codes below are illustrative, in the national format.
TOWNSHIPS = [
    ("433101001", "乾州街道 Qianzhou Street"),
    ("433101100", "矮寨镇 Aizhai Town"),
    ("433123100", "沱江镇 Tuojiang Town"),
]
VILLAGES = [
    ("433101001001", "世纪社区 Shiji Community"),
    ("433101100201", "德夯村 Dehang Village"),
    ("433123100201", "老洞村 Laodong Village"),
]
GRIDS = [
    ("433101001001001", "世纪社区第一网格 Shiji grid 1", "gw-1001"),
    ("433101001001002", "世纪社区第二网格 Shiji grid 2", "gw-1002"),
    ("433101100201001", "德夯村网格 Dehang grid", "gw-2001"),
    ("433123100201001", "老洞村网格 Laodong grid", "gw-3001"),
]
# Member units of Jishou's coordination body (Art. 2) and one contact point per grid (Art. 5(3)).
MEMBER_UNITS = [
    ("433101", "justice", "吉首市司法局 Jishou Justice Bureau", ["people's mediation", "community correction"]),
    ("433101", "police", "吉首市公安局 Jishou Public Security Bureau", ["public order", "road traffic"]),
]
CONTACT_POINTS = [
    ("433101001001001", "433101:justice", "cp-justice-1", "Contact, justice bureau"),
]
WORK_ITEMS = [  # grid, kind, title, days from today, recurring every N days, assignee
    ("433101001001001", "patrol", "Evening patrol of the market street", 1, 7, "gw-1001"),
    ("433101100201001", "hazard_check", "Check the slope above the bridge road", -2, None, "gw-2001"),
]
RISKS = [  # where, category, source, level, place, description, unit, person id, person name
    ("433101100201", "hazardous_road_section", "risk", "yellow", "Bridge road, km 3",
     "Rockfall after heavy rain.", "433101:police", "officer-3101", "Officer on duty"),
]
EVENTS = [
    ("433101001001001", "dispute", "patrol", "medium", "Courtyard, building 3",
     "Two households dispute a boundary wall."),
    ("433101100201001", "safety_hazard", "risk", "high", "Road to the suspension bridge",
     "Loose rocks above the road after rain."),
    ("433123100201001", "public_security", "police_call", "low", "Village square", "Noise complaint at night."),
    # The highest severity: emergency_command opens an incident from it (docs/services/emergency_command.md).
    ("433101100201001", "safety_hazard", "patrol", "severe", "Bridge road, km 3", "Landslip blocks the road."),
]
CHINA = timezone(timedelta(hours=8))
KEY_AREAS = [  # registry ref, where, kind, managing unit, drill every N days, registered days ago,
    # (required staff, actual staff), plan adopted
    ("jishou-century-square", "433101001001", "square", "433101:city_admin", 90, 200, (8, 5), True),
    ("dehang-scenic-area", "433101100201", "scenic_spot", "433101:tourism", 60, 45, (6, 6), False),
]


# Key populations (Art. 7(4)): opaque person id, village, category, risk level, minor dependants, days enrolled.
KEY_PERSONS = [
    ("kp-demo-1", "433101001001", "severe_mental_disorder", 4, 0, 40),  # joint handling from level 4
    ("kp-demo-2", "433101001001", "drug_users", 5, 0, 20),  # the highest level: an emergency incident opens
    ("kp-demo-3", "433101001001", "released_persons", 1, 2, 10),  # minor dependants: referred to juvenile protection
    ("kp-demo-4", "433101001001", "community_correction", 2, 0, 100),  # a follow-up overdue
]


def seed(rpc: Any, officer: Any = None) -> dict:
    """Register the demo tree and events through ``rpc`` (an admin's proxy), and the key-population records
    through ``officer`` (a township officer serving those categories; the admin serves none). Idempotent."""
    grid_events = rpc.grid_events
    done = {"jurisdictions": 0, "grids": 0, "events": 0, "work items": 0, "risks": 0}
    for code, name in [PREFECTURE, *COUNTIES, *TOWNSHIPS, *VILLAGES]:
        grid_events.register_jurisdiction(code=code, name=name, command_id=f"demo:jurisdiction:{code}")
        done["jurisdictions"] += 1
    for code, name, worker in GRIDS:
        grid_events.register_grid(code=code, name=name, command_id=f"demo:grid:{code}")
        grid_events.assign_worker(grid_code=code, worker_id=worker, command_id=f"demo:worker:{code}:{worker}")
        done["grids"] += 1
    for body, unit, name, duties in MEMBER_UNITS:
        grid_events.register_member_unit(body_code=body, unit_code=unit, name=name, duties=duties,
                                         command_id=f"demo:unit:{body}:{unit}")
    for grid, unit, contact_id, contact_name in CONTACT_POINTS:
        grid_events.name_contact_point(grid_code=grid, unit=unit, contact_id=contact_id, contact_name=contact_name,
                                       command_id=f"demo:contact:{grid}:{unit}")
    for number, (grid, kind, title, days, every, worker) in enumerate(WORK_ITEMS):
        grid_events.add_work_item(grid_code=grid, kind=kind, title=title,
                                  due_date=(date.today() + timedelta(days=days)).isoformat(), every_days=every,
                                  assignee_kind="grid_worker", assignee_id=worker, command_id=f"demo:item:{number}")
        done["work items"] += 1
    for number, (where, category, source, level, place, description, unit, person, name) in enumerate(RISKS):
        grid_events.register_risk(jurisdiction=where, category=category, source=source, level=level, place=place,
                                  description=description, responsible_unit=unit, responsible_person_id=person,
                                  responsible_person_name=name, command_id=f"demo:risk:{number}")
        done["risks"] += 1
    for number, (grid, category, source, severity, place, description) in enumerate(EVENTS):
        grid_events.report_event(
            grid_code=grid, category=category, source=source, severity=severity,
            place=place, description=description, command_id=f"demo:event:{number}",
        )
        done["events"] += 1
    done.update(_seed_emergency_command(rpc.emergency_command))
    done.update(_seed_juvenile_protection(rpc.juvenile_protection))
    if officer is not None:
        done.update(_seed_key_populations(officer.key_populations))
    return done


def _key_population_facts(category: str, enrolled: date) -> dict[str, Any]:
    start = (enrolled - timedelta(days=5)).isoformat()
    facts: dict[str, dict[str, Any]] = {
        "severe_mental_disorder": {"diagnosis": "schizophrenia", "guardian_name": "Guardian of the demo patient",
                                   "treatment_status": "outpatient"},
        "drug_users": {"measure": "community_drug_rehabilitation", "measure_start": start, "test_every_days": 30},
        "released_persons": {"released_on": start, "prison": "Xiangxi Prison"},
        "community_correction": {"correction_type": "parole", "supervision_start": start,
                                 "supervision_end": (enrolled + timedelta(days=365)).isoformat(),
                                 "reporting_every_days": 7, "duties": ["report_in_person"]},
    }
    return facts[category]


def _seed_key_populations(kp: Any) -> dict:
    """A person in each category with a helper team: one at the highest risk (emergency command opens an
    incident), one with minor dependants (a referral), one followed up, one whose follow-up is overdue."""
    done = {"key-population records": 0}
    today = date.today()
    team = [{"member_id": "qz-township", "role": "township_official", "name": "Township official"},
            {"member_id": "qz-police", "role": "police_officer", "name": "Police officer"},
            {"member_id": "qz-health", "role": "health_worker", "name": "Health worker"}]
    for person_id, village, category, level, minors, age in KEY_PERSONS:
        enrolled = today - timedelta(days=age)
        kp.register_person(person_id=person_id, jurisdiction=village, name=f"Demo person {person_id[-1]}",
                           command_id=f"demo:kp:{person_id}")
        enrolment = kp.enrol(person_id=person_id, category=category, enrolled_on=enrolled.isoformat(),
                             facts=_key_population_facts(category, enrolled), team=team,
                             responsible_id="qz-township", risk_level=level, minor_dependants=minors,
                             command_id=f"demo:kp:{person_id}:enrol")
        if category == "severe_mental_disorder":
            kp.record_follow_up(enrolment_id=enrolment["enrolment_id"], held_on=today.isoformat(),
                                kind="home_visit", outcome="stable", command_id=f"demo:kp:{person_id}:visit")
        done["key-population records"] += 1
    return done


def _seed_juvenile_protection(juvenile: Any) -> dict:
    """A school's mandatory report accepted into a left-behind child's case (the school recorded) with a
    coordinated plan (civil affairs and the school, one task acknowledged), and a village committee's report still
    waiting for acceptance: its 24-hour deadline is flagged by the timer. The child is invented."""
    village = "433123100201"
    report_id = juvenile.receive_report(source="school", reference="demo-school-2026-001", jurisdiction=village,
                                        summary="Pupil absent for two weeks; grandparents unreachable.",
                                        command_id="demo:jp:report:1")["report_id"]
    juvenile.receive_report(source="village_committee", reference="demo-vc-2026-007", jurisdiction=village,
                            summary="Child left alone while the parents work in Guangdong.",
                            command_id="demo:jp:report:2")
    birth = date.today().replace(day=1) - timedelta(days=12 * 365)
    case_id = juvenile.accept_report(report_id=report_id, minor_id="demo-minor-1", birth_month=birth.isoformat()[:7],
                                     date_of_birth=birth.isoformat(), name="Demo Child", categories=["left_behind"],
                                     command_id="demo:jp:accept:1")["case_id"]
    juvenile.record_school(case_id=case_id, school_id="fenghuang-primary-2", command_id="demo:jp:school:1")
    plan_id = juvenile.draw_up_plan(case_id=case_id, lead_department="civil_affairs",
                                    first_review_on=(date.today() + timedelta(days=90)).isoformat(),
                                    command_id="demo:jp:plan:1")["plan_id"]
    due = (date.today() + timedelta(days=14)).isoformat()
    task_id = juvenile.assign_plan_task(plan_id=plan_id, department="civil_affairs", due_on=due,
                                        description="Home visit; arrange a guardian's care allowance.",
                                        command_id="demo:jp:task:1")["task_id"]
    juvenile.assign_plan_task(plan_id=plan_id, department="school", due_on=due,
                              description="Daily attendance check and after-school care.",
                              command_id="demo:jp:task:2")
    juvenile.acknowledge_plan_task(plan_id=plan_id, task_id=task_id, command_id="demo:jp:ack:1")
    return {"minors' reports": 2, "minors' cases": 1}


def _seed_emergency_command(emergency: Any) -> dict:
    """Key areas (one short of staff, one without a plan), an incident with a task acknowledged,
    and a warning issued then updated: its CAP documents are served by ``get_warning_cap``."""
    done = {"key areas": 0, "incidents": 0, "warnings": 0}
    today = date.today()
    for ref, where, kind, unit, every, age, (required, actual), planned in KEY_AREAS:
        area_id = emergency.register_key_area(registry_ref=ref, jurisdiction=where, kind=kind, managing_unit=unit,
                                              drill_every_days=every,
                                              registered_on=(today - timedelta(days=age)).isoformat(),
                                              command_id=f"demo:key_area:{ref}")["area_id"]
        emergency.set_requirements(area_id=area_id, staff=required, equipment={"extinguisher": 12},
                                   command_id=f"demo:key_area:{ref}:required")
        emergency.report_resources(area_id=area_id, staff=actual, equipment={"extinguisher": 12},
                                   on=today.isoformat(), command_id=f"demo:key_area:{ref}:actual")
        if planned:
            emergency.adopt_plan(area_id=area_id, version=1, approved_by="433101:emergency_office",
                                 approved_on=(today - timedelta(days=age - 10)).isoformat(),
                                 document_ref=f"{ref}-plan-v1", command_id=f"demo:key_area:{ref}:plan")
        done["key areas"] += 1
    incident = emergency.open_incident(incident_ref="demo-flood-2026", jurisdiction="433101100201",
                                       classification="natural_disaster", level="III",
                                       commander_unit="433101:emergency_office", command_id="demo:incident")
    task = emergency.assign_task(incident_id=incident["incident_id"], unit="433101:fire_brigade",
                                 instructions="Close the bridge road and guide traffic to the ring road.",
                                 due_at=datetime.combine(today + timedelta(days=1), time(18), CHINA).isoformat(),
                                 command_id="demo:incident:task")
    emergency.acknowledge_task(incident_id=incident["incident_id"], task_id=task["task_id"],
                               command_id="demo:incident:ack")
    done["incidents"] += 1
    # Times from the day, not the moment, so seeding again repeats the same commands.
    info = {"categories": ["Met", "Geo"], "event": "暴雨 Heavy rain", "urgency": "Expected", "severity": "Severe",
            "certainty": "Likely", "level": "orange",
            "effective": datetime.combine(today, time(0), CHINA).isoformat(),
            "expires": datetime.combine(today + timedelta(days=2), time(0), CHINA).isoformat(), "areas": ["433101100"],
            "headline": "暴雨橙色预警 Orange heavy-rain warning", "instruction": "Keep off the bridge road."}
    warning = emergency.issue_warning(command_id="demo:warning", jurisdiction="433101", info=info,
                                      incident_id=incident["incident_id"])
    emergency.update_warning(warning_id=warning["warning_id"], command_id="demo:warning:update",
                             info={**info, "level": "red", "severity": "Extreme", "urgency": "Immediate",
                                   "headline": "暴雨红色预警 Red heavy-rain warning"})
    done["warnings"] += 1
    return done
