"""How the jobs panel and the admin write a job's times: "2 min 5 s", "about 40 s"."""

from django import template

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Whole seconds as hours, minutes and seconds, the two largest parts; "unknown" for None."""
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
