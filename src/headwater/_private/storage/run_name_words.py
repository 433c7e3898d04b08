"""The words of generated flow run names: adjectives and animals, curated.

Plain, friendly, lower-case ``a-z`` words (no hyphen: a name is exactly
``adjective-animal``, as in Prefect 2, and tools split it on its one
hyphen), none in both lists, none unkind in any pairing. 788 adjectives by
651 animals give 512,988 names (``run_names.py`` says how they are drawn).

Standard library only: part of the storage core.
"""

from __future__ import annotations

__all__ = ["ADJECTIVES", "ANIMALS"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ADJECTIVES = _words("""
able abundant acoustic adamant adept adorable adventurous aerial affable agile agreeable
airy alert alive alpine amazing amber amiable ample amused analog ancient angelic animated
antique apricot apt aqua arctic ardent aromatic artful ashen assured astute atomic attentive
auburn august auspicious austere autumn avid awake aware azure balanced balmy bashful
beaming beefy beloved benevolent benign big blazing blissful blithe blue blushing bold
bouncy boundless bountiful brainy brave brawny breathless breezy bright brilliant brisk
bristly bronze bubbly burly bustling busy buttery calm candid canny capable carefree careful
caring casual celestial certain cerulean chalky charming chatty cheerful cheery chill
chipper chirpy chosen chubby cinnamon citrus civic classic clean clear clement clever cloudy
coastal cobalt cogent coherent colorful colossal comely comfy comic compact composed
congenial content cool copper cordial cosmic cosy courteous courtly cozy crafty creative
crested crimson crisp crystal cuddly cunning curious curly curvy cyan dainty dandy dapper
dappled daring dashing dazzling decent deep deft delicate delightful deluxe dense dependable
devoted dewy diligent diplomatic discreet distant distinct docile dotted downy dreamy driven
dual dulcet dusky dutiful dynamic eager earnest earthy easy ebony eclectic efficient elated
elder electric elegant elemental elevated elfin elite eloquent elusive ember emerald eminent
enchanted endless energetic engaging enlightened enormous epic equable equal esteemed
eternal ethereal even evergreen exact excellent exemplary exotic expansive expert exuberant
fabulous fair faithful famed famous fancy fantastic fast fearless fearsome feathered feisty
fervent festive fierce fiery fine firm flashy flaxen fleecy fleet floral flowing fluent
fluffy flying foamy focused fond forest formal fortified fortunate fragrant frank free fresh
friendly frilly frisky frosty frugal funky funny fuzzy galactic gallant gauzy generous
gentle genuine geometric giant gifted gilded ginger giving glacial glad glassy gleaming
gleeful glimmering glistening glorious glossy glowing golden good graceful gracious grand
grassy grateful great green gritty groovy grounded growing guiding gusty handy happy hardy
harmless harmonic hazel heady hearty heather helpful heroic hidden highland hilly hollow
honest honeyed honorable hopeful hospitable humble humming humorous hushed icy ideal idyllic
illustrious imaginative immense impartial indigo industrious infinite ingenious inky
inquisitive inspired intent intrepid inventive iridescent ivory jade jaunty jazzy jeweled
jocular jolly jovial joyful joyous jubilant judicious jumbo just keen kind kindly kinetic
kingly knightly knowing laconic lacy lanky lapis large latent lavender lawful leafy lean
legendary lemon level light likable lilac lilting limber lime limpid linen literate lively
local lofty lone loud lovely loving loyal lucid lucky luminous lunar lush lustrous lyrical
magenta magic magnetic majestic malachite mannerly maple marble maroon marvelous massive
mature mauve meadow meek mellow melodic merciful merry metallic meteoric midnight mighty
mild mindful mint minty mirrored mirthful misty mobile modern modest molten moonlit mosaic
moss mossy motivated musical mystic narrow natural nautical navy neat nebulous neighborly
nested nifty nimble noble nocturnal nordic northern notable novel nutty oaken oblong
observant ocean ochre olden olive onyx opal open optic optimal optimistic orange orbital
orchid orderly organic original ornate outgoing outstanding pacific painted palatial pale
paper pastel patchy patient peaceful pearly pebbled peerless pensive peppy perennial perfect
perky persistent pewter piney placid plain planetary playful pleasant pleated plucky plumed
plush poetic pointed poised polar polished polite polka popular positive powerful practical
prairie precious precise premium pretty primal prime prismatic pristine prized productive
proficient prompt proper prosperous proud prudent puffy punctual pure purple quaint quartz
quick quiet quilted quirky quixotic radiant rainy rambling rapid rapt rare rational ready
real reedy regal regular relaxed reliable remarkable resilient resolute resonant resourceful
respectful rested restful rhythmic rich righteous ripe rippling riverine roaming robust
rocky rolling romantic rooted rosewood rosy round rousing royal ruby ruddy rugged rural
rustic sacred saffron sage salty sandy sapphire sassy satin savvy scaly scarlet scenic
scholarly secret secure sensible serene shadowy shaggy sharp shimmering shiny silent silken
silky silver silvery simple sincere skilled sleek sleepy slender slick smart smiling smooth
snappy snowy snug soaring sociable soft solar solemn solid sonic sooty sophisticated
sparkling sparkly special speckled speedy spicy spiral spirited splendid sporty spotless
spotted spruce spry square stable stalwart starry stately steady stellar sterling stoic
stony storied stormy stout striped strong studious stunning sturdy suave sublime subtle
sugary summery sunlit sunny super superb supreme sure swirling tactful talented tall
tangerine tangy tartan tawny tenacious tender terrific thankful thistle thorough thoughtful
thrifty thriving thundering tidal tidy timber timely tinted tireless titanic topaz towering
tranquil tropical true trusty truthful tufted tuneful turquoise twilight twinkling ultra
umber unbound unified unique united unusual upbeat upland upright urban useful utopian
valiant valid vast vaulted velvet venerable verbal verdant vernal versatile vibrant
victorious vigilant vigorous violet viridian virtuous vital vivacious vivid vocal volcanic
wakeful wandering warm watchful wavy wealthy wheaten whimsical whirling whispering white
wholesome wild willing windy winged winsome winter wintry wiry wise witty wonderful wondrous
woody woolly worthy young youthful zany zealous zen zesty zippy
""")

ANIMALS = _words("""
aardvark aardwolf abalone addax adder agama agouti albatross alligator alpaca anaconda
anchovy anemone angelfish anhinga anole ant anteater antelope aphid arapaima armadillo
arowana auk aurochs avocet axolotl babirusa baboon badger bandicoot banteng barb barbel
barbet barnacle barracuda basilisk bass bat bear beaver bee beetle betta bettong bichir
binturong bison bitterling bittern blackbird blackbuck blenny bluebird bluegill bluejay boa
bobcat bobolink bongo bonito bonobo bowerbird brambling bream brill buffalo bullfinch
bullfrog bumblebee bunting burbot bushbaby bushbuck bustard butterfly buzzard caddisfly
caecilian caiman camel canary capercaillie capybara caracal cardinal caribou carp cassowary
cat catbird catfish cavy centipede chaffinch chameleon chamois char cheetah chevrotain
chickadee chiffchaff chimpanzee chinchilla chipmunk chough chub chukar cicada cichlid civet
clam coati cobra cockatiel cockatoo cockle cod coelacanth colugo conch condor coot coral
cormorant corncrake cougar cow cowbird coyote coypu crab crake crane crappie crayfish
creeper cricket crocodile crossbill crow cuckoo curassow curlew cuscus cuttlefish dabchick
dace damselfish damselfly danio dassie deer degu dhole dibatag dikdik dingo dipper dodo dog
dolphin donkey dormouse dory dotterel dove dowitcher dragonfly drongo duck dugong duiker
dunlin dunnock eagle earwig echidna eel egret eider eland elephant elk emu ermine falcon
ferret fieldfare finch firecrest firefly flamingo flicker flounder flycatcher fossa fox
frigatebird frog fulmar gadwall gallinule gannet gar garganey gaur gazelle gecko gemsbok
genet gerbil gerenuk gharial gibbon giraffe glider glowworm gnu goat goby godwit goldcrest
goldeneye goldfinch goldfish goose gopher gorilla goshawk gourami grackle grasshopper
grayling grebe greenfinch grison grosbeak grouper grouse grunion guanaco gudgeon guenon
guillemot guineafowl gull guppy gyrfalcon haddock hake halibut hamster hare harrier
hartebeest hawfinch hawk hedgehog heron herring hippo hoatzin hobby hog hogfish honeyeater
hoopoe hornbill hornet horse hummingbird hutia hyena hyrax ibex ibis iguana impala jacamar
jacana jackal jackdaw jaeger jaguar jaguarundi jay jellyfish jerboa junco kakapo kangaroo
katydid kea kestrel kiang killdeer kingbird kingfisher kinglet kinkajou kiskadee kite
kittiwake kiwi klipspringer knot koala kob kodkod koel koi kookaburra krait krill kudu
lacewing ladybird ladybug lamprey langur lapwing lark lemming lemur leopard liger limpet
limpkin ling linnet lion lionfish llama loach lobster locust longspur loon lorikeet loris
lovebird lynx lyrebird macaque macaw mackerel magpie mahi mallard mamba manakin manatee
mandrill mantis mara margay markhor marlin marmoset marmot marten martin mayfly meadowlark
meerkat merganser merlin millipede mink minnow mockingbird mole molly mongoose monitor
monkey monkfish moorhen moose moth motmot mouse mule mullet muntjac murrelet muskellunge
muskox muskrat mussel mynah narwhal nautilus newt nighthawk nightingale nightjar nilgai
nudibranch numbat nuthatch nutria oarfish ocelot octopus okapi olingo onager opah opossum
orangutan oribi oriole oryx osprey ostrich otter ouzel ovenbird owl ox oyster oystercatcher
paddlefish panda pangolin panther parakeet parrot partridge peacock peccary pelican penguin
perch peregrine petrel pewee phalarope pheasant phoebe pickerel pigeon pika pike pintail
pipit piranha plaice platypus plover pochard polecat pollock pompano porcupine porpoise
possum potoo potoroo potto prawn pronghorn ptarmigan puffer puffin puma python quail quetzal
quokka quoll rabbit raccoon rail ratel raven razorbill redpoll redshank redstart redwing
reindeer remora rhea rhino ringtail roach roadrunner robin rook rosella rudd ruff sable
saiga sailfish salamander salmon sanderling sandpiper sapsucker sardine sawfish scad scallop
scaup scorpion scoter seahorse secretarybird serval shad shark shearwater sheep shelduck
shoebill shrew shrike shrimp siamang sifaka siskin skate skimmer skink skua skunk skylark
sloth slowworm smelt smew snail snapper snipe snook sole sparrow spider sponge spoonbill
sprat springbok squid squirrel starfish starling steenbok stickleback stilt stoat stonechat
stonefly stork sturgeon sunbird sunfish suni swallow swan swift swordfish takin tamarin
tanager tapir tarantula tardigrade tarpon tarsier tattler teal tegu tench tenrec termite
tern tetra thrasher thrush tiger tilapia tinamou titmouse toad topi tortoise toucan towhee
treecreeper treefrog trogon tuatara tuco tuna turaco turbot turkey turnstone turtle uakari
urchin urial veery vicuna viper vireo vole vulture wagtail wahoo wallaby walleye walrus
wapiti warbler warthog wasp waxwing weasel weaver weevil whale wheatear whelk whimbrel
whinchat whipbird wigeon wildcat willet wolf wolverine wombat woodcock woodpecker worm
wrasse wren wryneck yak yellowhammer yellowlegs zander zebra zebu zorilla
""")
