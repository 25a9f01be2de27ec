"""Uses each of the first packages installed by name (`eryx --with ...`):
run by with_cli.rs, which checks every line it prints."""
import datetime
import zoneinfo

import attr
import bs4
import dateutil.parser
import dateutil.relativedelta
import jinja2
import more_itertools
import pytz
import requests
import rich.console
import tabulate
import yaml

soup = bs4.BeautifulSoup("<p>hi <b>there</b></p>", "html.parser")
print("bs4", soup.b.text)
print("tabulate", tabulate.tabulate([[1, 2]], headers=["a", "b"], tablefmt="github").splitlines()[2])
d = dateutil.parser.parse("2024-02-29T12:00:00") + dateutil.relativedelta.relativedelta(years=1)
print("dateutil", d.date())
paris = pytz.timezone("Europe/Paris")
print("pytz", paris.localize(datetime.datetime(2024, 7, 1, 12)).strftime("%z"))
print("jinja2", jinja2.Template("{{ x | upper }}!").render(x="ok"))
print("yaml", yaml.safe_load("a: [1, 2]\nb: {c: true}"))


@attr.s(auto_attribs=True)
class Point:
    x: int
    y: int


print("attrs", Point(1, 2))
print("more_itertools", list(more_itertools.chunked(range(5), 2)))
req = requests.Request("GET", "https://example.org/x", params={"q": "1"}).prepare()
print("requests", req.url)
console = rich.console.Console(no_color=True, width=40)
with console.capture() as cap:
    console.print("[bold]rich[/bold] text")
print("rich", cap.get().strip())
print("zoneinfo", datetime.datetime(2024, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).utcoffset())
