#!/bin/sh
# GHC: compile a Haskell program (Data.Map, Integer, exceptions from pure
# code, forkIO threads and MVars) for the threaded RTS and run it on two
# capabilities (-N2: the RTS's own worker threads, timer and parallel GC).
d=$W/ghc_$$
mkdir -p $d && cd $d || exit 1
cat > M.hs <<'HS'
import qualified Data.Map.Strict as M
import Control.Concurrent
import Control.Concurrent.MVar
import Control.Exception
import Data.List (foldl', sort)
import Text.Printf

data Shape = Circle Double | Rect Double Double deriving Show
area :: Shape -> Double
area (Circle r) = pi * r * r
area (Rect a b) = a * b

main :: IO ()
main = do
  let m = M.fromList [(show i, i * i) | i <- [1 .. 20000 :: Integer]]
  print (M.size m, M.lookup "1999" m, sum (M.elems m))
  print (product [1 .. 30 :: Integer])
  printf "%.6f\n" (sum (map area [Circle 1.5, Rect 2 3.25]))
  print (take 5 (sort [x * 7919 `mod` 1009 | x <- [1 .. 5000 :: Int]]))
  r <- try (evaluate (1 `div` (0 :: Int)))
  case r of
    Left DivideByZero -> putStrLn "div0"
    Left e -> print e
    Right v -> print v
  r2 <- try (evaluate (head ([] :: [Int])))
  putStrLn (either (\e -> "caught " ++ takeWhile (/= '\n') (show (e :: SomeException)) `seq` "head") show r2)
  mv <- newMVar (0 :: Int)
  dones <- mapM (\k -> do
      d <- newEmptyMVar
      _ <- forkIO $ do
        let s = foldl' (+) 0 [j `mod` (k + 2) | j <- [0 .. 100000]]
        modifyMVar_ mv (return . (+ s))
        putMVar d ()
      return d) [0 .. 3]
  mapM_ takeMVar dones
  readMVar mv >>= print
  threadDelay 20000
  putStrLn "done"
HS
ghc -O0 -threaded -rtsopts M.hs -o m > /dev/null && ./m +RTS -N2
echo "ghc exit $?"
cd / && rm -rf $d
