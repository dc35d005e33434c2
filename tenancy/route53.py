"""Route53 record sets: read what a name holds, create a CNAME, delete exactly one. Nothing else
talks to Route53, and nothing here can overwrite a record: there is no UPSERT.

Names are compared without the trailing dot and in lowercase; Route53 answers with the dot.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import aws

# Route53 lists a name's record sets in one page; a name holds at most a few dozen types.
_PAGE_SIZE = "100"


@dataclass(frozen=True)
class RecordSet:
    name: str
    type: str
    ttl: int | None
    values: tuple[str, ...]


@dataclass(frozen=True)
class CnameRecord:
    name: str
    target: str
    ttl: int

    def matches(self, record_set: RecordSet) -> bool:
        """True when ``record_set`` is exactly this record: name, type, TTL and value."""
        return (
            record_set.name == self.name
            and record_set.type == "CNAME"
            and record_set.ttl == self.ttl
            and record_set.values == (self.target,)
        )


def bare(name: str) -> str:
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


def record_sets_named(*, zone_id: str, name: str) -> list[RecordSet]:
    """Every record set the zone holds for exactly ``name``, whatever its type."""
    name = bare(name)
    with aws.aws_errors(f"read the DNS records of {name}"):
        page = aws.client("route53").list_resource_record_sets(
            HostedZoneId=zone_id, StartRecordName=f"{name}.", MaxItems=_PAGE_SIZE
        )
    return [
        RecordSet(
            name=name,
            type=rrset["Type"],
            ttl=rrset.get("TTL"),
            values=tuple(bare(value["Value"]) for value in rrset.get("ResourceRecords") or []),
        )
        for rrset in page.get("ResourceRecordSets", [])
        if bare(rrset["Name"]) == name
    ]


def cname_create(*, zone_id: str, record: CnameRecord) -> None:
    """Create ``record``; Route53 refuses (InvalidChangeBatch) when the name already holds one."""
    _change(
        zone_id=zone_id, action="CREATE", record=record, what=f"create the CNAME of {record.name}"
    )


def cname_delete(*, zone_id: str, record: CnameRecord) -> None:
    """Delete ``record``; Route53 refuses unless the zone holds exactly it (value and TTL too)."""
    _change(
        zone_id=zone_id, action="DELETE", record=record, what=f"delete the CNAME of {record.name}"
    )
