"""The sample catalogue: what a new shop sells before anyone adds a product (data only)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SampleProduct:
    name: str
    price: str
    category: str
    description: str
    stock: int


def _category(category: str, stock: int, rows: tuple[tuple[str, str, str], ...]) -> tuple[SampleProduct, ...]:
    return tuple(SampleProduct(name, price, category, description, stock + 37 * i)
                 for i, (name, price, description) in enumerate(rows))


RUNNING = _category("Running", 400, (
    ("Trail runner", "89.99", "Grippy lugged outsole and a rock plate for muddy, rooty trails. 8 mm drop."),
    ("Road racer", "129.00", "Light, springy racing shoe with a nylon plate for 10k to marathon days."),
    ("Daily trainer", "109.50", "Cushioned everyday shoe with a wide toe box; built for easy miles."),
    ("Running socks, 3 pairs", "18.00", "Merino blend, seamless toe, cushioned heel; no blisters on long runs."),
    ("Hydration vest 8 L", "74.90", "Two soft flasks up front, room for a jacket and snacks at the back."),
    ("Reflective running jacket", "95.00", "Windproof, packable into its own pocket, reflective trim all round."),
    ("GPS sports watch", "249.00", "Heart rate, pace and route navigation; two weeks of battery life."),
    ("Running cap", "22.00", "Quick-drying mesh cap with a soft peak and a reflective logo."),
    ("Compression tights", "59.90", "Supportive tights with a zipped back pocket for keys and a phone."),
    ("Headlamp 400 lm", "39.00", "Rechargeable, bounce-free strap and a red light for group runs."),
    ("Foam roller", "24.50", "Firm EVA roller for calves and quads after a hard session."),
))

OUTDOOR = _category("Outdoor", 300, (
    ("Two-person tent", "219.00", "Freestanding, 1.9 kg, two doors and two porches; pitches in five minutes."),
    ("Down sleeping bag", "189.00", "Comfort rating -2 degrees C, 800-fill down, compresses to a bottle's size."),
    ("Inflatable sleeping mat", "79.00", "R-value 4.2, quiet fabric, inflates with the pump sack included."),
    ("Trekking poles", "64.00", "Carbon, three sections, cork grips and flick locks."),
    ("Daypack 24 L", "84.90", "Ventilated back panel, rain cover and a hip belt with pockets."),
    ("Camping stove", "45.00", "Canister stove that boils a litre in four minutes; piezo ignition."),
    ("Titanium mug 450 ml", "29.50", "Doubles as a pot: folding handles, lid and measuring marks."),
    ("Water filter", "34.90", "Hollow-fibre filter for 1,500 litres; screws onto standard bottles."),
    ("Rain shell", "159.00", "Three-layer waterproof jacket with pit zips and a helmet-sized hood."),
    ("Merino base layer", "69.00", "Long-sleeved 200 g merino top; warm when wet and odour-resistant."),
    ("Map compass", "27.00", "Baseplate compass with declination adjustment and a magnifier."),
))

KITCHEN = _category("Kitchen", 500, (
    ("Cast-iron skillet 26 cm", "42.00", "Pre-seasoned skillet for searing, baking and cornbread."),
    ("Chef's knife 20 cm", "79.00", "Forged stainless steel, full tang, balanced for long prep sessions."),
    ("End-grain cutting board", "54.00", "Walnut end-grain board that is kind to knife edges."),
    ("Dutch oven 5 L", "119.00", "Enamelled cast iron for stews, braises and no-knead bread."),
    ("Digital kitchen scale", "24.90", "Weighs to the gram up to 5 kg, with a tare button."),
    ("Stainless mixing bowls, set of 3", "32.00", "Nesting bowls with non-slip bases and pouring lips."),
    ("Silicone spatula set", "14.50", "Heat-proof to 260 degrees C; one piece, nothing to trap food."),
    ("Salad spinner", "27.90", "Pump-action spinner with a brake; the bowl doubles as a serving dish."),
    ("Espresso cups, set of 4", "26.00", "Double-walled glass cups that keep the crema visible."),
    ("Bread proofing basket", "19.00", "Rattan banneton with a linen liner for a 1 kg loaf."),
    ("Pepper mill", "36.00", "Ceramic burr grinder with a coarse-to-fine dial."),
))

BOOKS = _category("Books", 250, (
    ("Designing Data-Intensive Applications", "49.99", "Replication, partitioning, streams and their trade-offs."),
    ("The Pragmatic Programmer", "44.00", "Twentieth-anniversary edition: habits that keep code changeable."),
    ("Site Reliability Engineering", "52.00", "How Google runs production systems: SLOs, toil and incident response."),
    ("Streaming Systems", "46.50", "Watermarks, windows and exactly-once processing, explained with diagrams."),
    ("A Philosophy of Software Design", "29.99", "Deep modules, information hiding and the cost of complexity."),
    ("The Art of Fermentation", "39.00", "Sauerkraut, miso, kombucha and the traditions behind them."),
    ("Salt, Fat, Acid, Heat", "35.00", "The four elements of good cooking, with illustrated recipes."),
    ("Born to Run", "16.99", "The story of the Tarahumara runners and the rise of ultrarunning."),
    ("The Hidden Life of Trees", "18.50", "How trees communicate, share nutrients and care for their young."),
    ("Atlas of Remote Islands", "24.00", "Fifty islands you will never visit, each with a map and a story."),
    ("Thinking in Systems", "21.00", "A primer on stocks, flows and feedback loops."),
))

ELECTRONICS = _category("Electronics", 200, (
    ("Noise-cancelling headphones", "229.00", "Over-ear, 30 hours of battery, multipoint Bluetooth."),
    ("Mechanical keyboard", "139.00", "Tenkeyless, hot-swappable switches, PBT keycaps."),
    ("Wireless mouse", "49.00", "Ergonomic shape, silent clicks, USB-C charging."),
    ("27-inch 4K monitor", "349.00", "IPS panel, USB-C with 65 W power delivery, height-adjustable stand."),
    ("USB-C dock", "119.00", "Two displays, Gigabit Ethernet, SD reader and 100 W pass-through."),
    ("Portable SSD 1 TB", "99.00", "Pocket-sized drive with 1,000 MB/s reads over USB-C."),
    ("Webcam 1080p", "69.00", "Auto-focus, a privacy shutter and two microphones."),
    ("E-reader", "139.99", "Glare-free 7-inch screen, warm light and weeks of battery."),
    ("Smart plug, 2-pack", "29.00", "Schedules and energy monitoring; works without a cloud account."),
    ("Bluetooth speaker", "79.00", "Waterproof, 12 hours of play, pairs with a second speaker."),
    ("Power bank 20,000 mAh", "45.00", "Charges a laptop over USB-C at 45 W."),
))

HOME_OFFICE = _category("Home office", 150, (
    ("Standing desk frame", "329.00", "Dual-motor frame with memory presets; fits tops up to 180 cm."),
    ("Ergonomic office chair", "289.00", "Adjustable lumbar support, 4D armrests and a breathable mesh back."),
    ("Desk lamp", "59.00", "Dimmable LED lamp with adjustable colour temperature and a USB port."),
    ("Monitor arm", "89.00", "Gas-spring arm for screens up to 32 inches, with cable management."),
    ("Cork desk mat", "25.00", "Large natural cork mat that is warm to the touch and easy to clean."),
    ("Notebook, dotted A5", "14.00", "192 numbered pages of 100 g paper that fountain pens love."),
    ("Fountain pen", "32.00", "Steel fine nib, converter included, transparent demonstrator body."),
    ("Cable tray", "21.00", "Under-desk steel tray that hides power strips and chargers."),
    ("Footrest", "38.00", "Tilting footrest with a massage surface for long calls."),
    ("Whiteboard 90 x 60 cm", "49.00", "Magnetic enamelled board with an aluminium frame and four markers."),
    ("Noise-absorbing panel, 4-pack", "69.00", "Felt panels that tame echo in a small home office."),
))

COFFEE = _category("Coffee", 350, (
    ("Ethiopia Yirgacheffe beans 250 g", "14.50", "Washed, light roast: jasmine, lemon and bergamot."),
    ("Colombia Huila beans 250 g", "13.00", "Medium roast: red apple, caramel and milk chocolate."),
    ("House espresso blend 1 kg", "34.00", "Brazil and Guatemala: chocolate and hazelnut, low acidity."),
    ("Burr coffee grinder", "129.00", "40 mm conical burrs, 40 grind steps from espresso to French press."),
    ("Pour-over dripper", "24.00", "Ceramic cone dripper for one to two cups."),
    ("Gooseneck kettle", "69.00", "Temperature control to the degree and a keep-warm mode."),
    ("Paper filters, 100 pack", "6.50", "Unbleached cone filters sized 02."),
    ("French press 1 L", "35.00", "Borosilicate glass with a stainless steel double filter."),
    ("Milk frother", "39.90", "Hot and cold foam, dishwasher-safe jug."),
    ("Travel mug 350 ml", "27.00", "Vacuum-insulated, leak-proof lid, fits car cup holders."),
    ("Decaf Peru beans 250 g", "13.50", "Swiss Water decaf: cocoa, brown sugar and orange."),
))

SAMPLE_CATALOGUE: tuple[SampleProduct, ...] = RUNNING + OUTDOOR + KITCHEN + BOOKS + ELECTRONICS + HOME_OFFICE + COFFEE
SAMPLE_CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(p.category for p in SAMPLE_CATALOGUE))
