"""Launch governance: the seed's readiness checklist, stakeholder sign-offs, staged
rollout and the RACI table as people read it (docs/governance.md)."""
