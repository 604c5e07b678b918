"""Opens a harvest's STAC catalog offline with pystac and odc-stac (README: "Harvests ready for analysis").

Usage: python examples/open-harvest.py /data/harvest   (a sink folder with catalog.json)
"""
import sys

import odc.stac
import pystac

catalog = pystac.Catalog.from_file(f"{sys.argv[1]}/catalog.json")
items = list(catalog.get_items(recursive=True))
for item in items:
    for key, asset in item.assets.items():
        print(item.id, item.datetime.date(), key, asset.get_absolute_href(), asset.extra_fields["file:size"])

# Unpacked products (output.unpack) have one asset per band: B02, B03, … Lazily, without reading pixels:
bands = sorted({key for item in items for key in item.assets if key.startswith("B")})
if bands:
    ds = odc.stac.load(items, bands=bands, crs="EPSG:3857", resolution=100, chunks={})
    print(ds)
