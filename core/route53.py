"""CNAME records in Route53: read one, write one, delete one. Nothing else talks to Route53.

Names are compared without the trailing dot and in lowercase; Route53 answers with the dot.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import aws


@dataclass(frozen=True)
class CnameRecord:
    name: str
    target: str
    ttl: int


def _bare(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _change(*, zone_id: str, action: str, record: CnameRecord, what: str) -> None:
    with aws.aws_errors(what):
        aws.client("route53").change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={
                "Comment": "Smooth Schedule custom domain",
                "Changes": [
                    {
                        "Action": action,
                        "ResourceRecordSet": {
                            "Name": f"{record.name}.",
                            "Type": "CNAME",
                            "TTL": record.ttl,
                            "ResourceRecords": [{"Value": record.target}],
                        },
                    }
                ],
            },
        )


def cname_get(*, zone_id: str, name: str) -> CnameRecord | None:
    """The CNAME record named ``name`` in the zone, or None when there is none."""
    name = _bare(name)
    with aws.aws_errors(f"read the DNS record of {name}"):
        page = aws.client("route53").list_resource_record_sets(
            HostedZoneId=zone_id, StartRecordName=f"{name}.", StartRecordType="CNAME", MaxItems="1"
        )
    for rrset in page.get("ResourceRecordSets", []):
        values = rrset.get("ResourceRecords") or []
        if _bare(rrset["Name"]) == name and rrset["Type"] == "CNAME" and values:
            return CnameRecord(name=name, target=_bare(values[0]["Value"]), ttl=rrset["TTL"])
    return None


def cname_upsert(*, zone_id: str, name: str, target: str, ttl: int) -> CnameRecord:
    record = CnameRecord(name=_bare(name), target=_bare(target), ttl=ttl)
    _change(zone_id=zone_id, action="UPSERT", record=record, what=f"write the DNS record of {name}")
    return record


def cname_delete(*, zone_id: str, record: CnameRecord) -> None:
    """Delete ``record``, which must be exactly what the zone holds (Route53's own rule)."""
    _change(
        zone_id=zone_id,
        action="DELETE",
        record=record,
        what=f"delete the DNS record of {record.name}",
    )


def cname_restore(*, zone_id: str, name: str, previous: CnameRecord | None) -> None:
    """Put the zone back as it was before an upsert of ``name``: the old record, or none."""
    if previous is not None:
        cname_upsert(zone_id=zone_id, name=name, target=previous.target, ttl=previous.ttl)
        return
    current = cname_get(zone_id=zone_id, name=name)
    if current is not None:
        cname_delete(zone_id=zone_id, record=current)
